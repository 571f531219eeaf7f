# Root variables of the example: the module's inputs, passed through one to one (tests/infra/iac_check.py
# keeps the two lists in sync), plus the provider connection. The module validates every value.

variable "site_name" {
  description = "Short name of the site, used as the prefix of every VM name (e.g. \"paris\" gives paris-server-1). Lowercase letters, digits and dashes, 2-24 characters, starting with a letter."
  type        = string
}

variable "server_count" {
  description = "Number of K3s server (control plane + embedded etcd) VMs. Odd and at least 3, so etcd keeps quorum when one is lost."
  type        = number
  default     = 3
}

variable "agent_count" {
  description = "Number of K3s agent (worker) VMs. 0 runs workloads on the servers."
  type        = number
  default     = 2
}

variable "server_size" {
  description = "Size of each server VM: vCPUs, memory in MiB, root disk in GiB."
  type = object({
    cpu       = number
    memory_mb = number
    disk_gb   = number
  })
  default = {
    cpu       = 4
    memory_mb = 8192
    disk_gb   = 80
  }
}

variable "agent_size" {
  description = "Size of each agent VM: vCPUs, memory in MiB, root disk in GiB."
  type = object({
    cpu       = number
    memory_mb = number
    disk_gb   = number
  })
  default = {
    cpu       = 4
    memory_mb = 8192
    disk_gb   = 100
  }
}

variable "network_cidr" {
  description = "IPv4 CIDR of the node network (Proxmox: the subnet behind network_bridge; Azure: the vnet and its subnet; vSphere: the port group subnet). Node addresses are taken from it at server_ip_offset and agent_ip_offset."
  type        = string
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for admin_username by cloud-init (the only way in: passwords stay disabled)."
  type        = string
}

variable "admin_cidr" {
  description = "IPv4 CIDR of the administrators, the only source outside network_cidr allowed to reach SSH (22) and the Kubernetes API (6443). Enforced by the provider firewall where there is one (Azure NSG, Proxmox VM firewall) and by every host's nftables (Ansible role common)."
  type        = string
}

variable "admin_username" {
  description = "Login created by cloud-init on every VM, with ssh_public_key and passwordless sudo; Ansible connects as this user."
  type        = string
  default     = "uyoop"
}

variable "tags" {
  description = "Extra tags for every resource, merged over app=uyoop-cal, site=<site_name>, managed-by=terraform. Azure uses them as is; Proxmox flattens each pair to a \"key-value\" tag; vSphere creates one tag category per key."
  type        = map(string)
  default     = {}
}

variable "server_ip_offset" {
  description = "Host number, inside network_cidr, of the first server (server i gets offset + i)."
  type        = number
  default     = 10
}

variable "agent_ip_offset" {
  description = "Host number, inside network_cidr, of the first agent. Kept apart from the servers so that adding servers never renumbers agents."
  type        = number
  default     = 20
}

# ---------------------------------------------------------------------------------------------------
# Azure specific
# ---------------------------------------------------------------------------------------------------

variable "location" {
  description = "Azure region, e.g. francecentral or westeurope. Pick one with availability zones for HA."
  type        = string
}

variable "resource_group_name" {
  description = "Existing resource group to deploy into. null creates rg-uyoop-<site_name>."
  type        = string
  default     = null
}

variable "zones" {
  description = "Availability zones to spread the VMs over, round-robin (server i goes to zones[i % n]). Empty for a region without zones."
  type        = list(string)
  default     = ["1", "2", "3"]
}

variable "server_vm_size" {
  description = "Azure VM size of the servers (e.g. Standard_D4s_v5). null derives it from server_size: about 2 GiB per vCPU gives Fsv2, 4 GiB gives Dsv5, more gives Esv5."
  type        = string
  default     = null
}

variable "agent_vm_size" {
  description = "Azure VM size of the agents. null derives it from agent_size like server_vm_size."
  type        = string
  default     = null
}

variable "vm_image" {
  description = "Marketplace image of every VM (Generation 2, for Trusted Launch)."
  type = object({
    publisher = string
    offer     = string
    sku       = string
    version   = string
  })
  default = {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }
}

variable "os_disk_type" {
  description = "Storage account type of the OS managed disks. etcd wants low-latency disks: Premium_LRS or PremiumV2 class."
  type        = string
  default     = "Premium_LRS"
}

variable "encryption_at_host_enabled" {
  description = "Encrypt temp disks and caches at the host too (managed disks are always encrypted at rest). Needs the EncryptionAtHost feature registered on the subscription."
  type        = bool
  default     = true
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set for customer-managed keys on the OS disks. null keeps platform-managed keys."
  type        = string
  default     = null
}

variable "trusted_launch_enabled" {
  description = "Secure Boot and vTPM (Trusted Launch). Needs a Generation 2 image."
  type        = bool
  default     = true
}

variable "ingress_source_cidrs" {
  description = "Sources allowed to reach HTTP/HTTPS (80/443) on the nodes and the internal load balancer. Empty means admin_cidr and network_cidr only."
  type        = list(string)
  default     = []
}

variable "api_lb_enabled" {
  description = "Create an internal Standard load balancer with one private address for the Kubernetes API (6443 -> servers) and ingress (80/443 -> agents, or servers when agent_count is 0)."
  type        = bool
  default     = true
}

variable "api_lb_ip_offset" {
  description = "Host number, inside network_cidr, of the internal load balancer's private address. Must not fall among the nodes."
  type        = number
  default     = 5
}

variable "nat_gateway_enabled" {
  description = "Give the subnet outbound Internet access through a NAT gateway (its own static public IP; the VMs get none). Set false for air-gapped sites or when a hub firewall routes egress."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------
# Provider connection (root module only; credentials come from the environment, never tfvars)
# ---------------------------------------------------------------------------------------------------

variable "subscription_id" {
  description = "Azure subscription to deploy into. Authentication comes from the environment (ARM_CLIENT_ID + OIDC/certificate, managed identity or az login)."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F-]{36}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}
