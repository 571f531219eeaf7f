terraform {
  # 1.9 is the first release whose variable validations may reference other variables.
  required_version = ">= 1.9.0"

  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.81.0"
    }
  }
}
