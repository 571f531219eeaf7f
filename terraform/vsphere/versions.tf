terraform {
  # 1.9 is the first release whose variable validations may reference other variables.
  required_version = ">= 1.9.0"

  required_providers {
    vsphere = {
      source  = "hashicorp/vsphere"
      version = "~> 2.10.0"
    }
  }
}
