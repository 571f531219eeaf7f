# Input contract of the Proxmox VE module. The "shared contract" variables come first: the same names,
# types and meaning in terraform/proxmox, terraform/azure and terraform/vsphere (tests/infra/iac_check.py
# checks they stay identical). The installer writes them into the site's terraform.tfvars.json.

# ---------------------------------------------------------------------------------------------------
# Shared contract
# ---------------------------------------------------------------------------------------------------

variable "site_name" {
  description = "Short name of the site, used as the prefix of every VM name (e.g. \"paris\" gives paris-server-1). Lowercase letters, digits and dashes, 2-24 characters, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.site_name))
    error_message = "site_name must be 2-24 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "server_count" {
  description = "Number of K3s server (control plane + embedded etcd) VMs. Odd and at least 3, so etcd keeps quorum when one is lost."
  type        = number
  default     = 3

  validation {
    condition     = var.server_count >= 3 && var.server_count % 2 == 1 && floor(var.server_count) == var.server_count && var.server_count <= 9
    error_message = "server_count must be an odd whole number between 3 and 9 (etcd quorum)."
  }
}

variable "agent_count" {
  description = "Number of K3s agent (worker) VMs. 0 runs workloads on the servers."
  type        = number
  default     = 2

  validation {
    condition     = var.agent_count >= 0 && var.agent_count <= 50 && floor(var.agent_count) == var.agent_count
    error_message = "agent_count must be a whole number between 0 and 50."
  }
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

  validation {
    condition     = var.server_size.cpu >= 2 && var.server_size.memory_mb >= 4096 && var.server_size.disk_gb >= 40
    error_message = "server_size needs at least 2 cpu, 4096 memory_mb and 40 disk_gb (K3s server with embedded etcd)."
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

  validation {
    condition     = var.agent_size.cpu >= 1 && var.agent_size.memory_mb >= 2048 && var.agent_size.disk_gb >= 20
    error_message = "agent_size needs at least 1 cpu, 2048 memory_mb and 20 disk_gb."
  }
}

variable "network_cidr" {
  description = "IPv4 CIDR of the node network (Proxmox: the subnet behind network_bridge; Azure: the vnet and its subnet; vSphere: the port group subnet). Node addresses are taken from it at server_ip_offset and agent_ip_offset."
  type        = string

  validation {
    condition     = can(cidrhost(var.network_cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.network_cidr))
    error_message = "network_cidr must be a valid IPv4 CIDR such as 10.20.0.0/24."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for admin_username by cloud-init (the only way in: passwords stay disabled)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh.com) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "ssh_public_key must be one OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa)."
  }
}

variable "admin_cidr" {
  description = "IPv4 CIDR of the administrators, the only source outside network_cidr allowed to reach SSH (22) and the Kubernetes API (6443). Enforced by the provider firewall where there is one (Azure NSG, Proxmox VM firewall) and by every host's nftables (Ansible role common)."
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.admin_cidr)) && var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must be a valid IPv4 CIDR other than 0.0.0.0/0."
  }
}

variable "admin_username" {
  description = "Login created by cloud-init on every VM, with ssh_public_key and passwordless sudo; Ansible connects as this user."
  type        = string
  default     = "uyoop"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.admin_username)) && !contains(["root", "admin"], var.admin_username)
    error_message = "admin_username must be a valid Linux user name and not root or admin."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over app=uyoop-cal, site=<site_name>, managed-by=terraform. Azure uses them as is; Proxmox flattens each pair to a \"key-value\" tag; vSphere turns each pair into a \"key=value\" tag in the site's tag category."
  type        = map(string)
  default     = {}
}

variable "server_ip_offset" {
  description = "Host number, inside network_cidr, of the first server (server i gets offset + i)."
  type        = number
  default     = 10

  validation {
    condition     = var.server_ip_offset >= 2
    error_message = "server_ip_offset must be at least 2 (the network address and the gateway come first)."
  }
}

variable "agent_ip_offset" {
  description = "Host number, inside network_cidr, of the first agent. Kept apart from the servers so that adding servers never renumbers agents."
  type        = number
  default     = 20

  validation {
    condition     = var.agent_ip_offset >= var.server_ip_offset + var.server_count
    error_message = "agent_ip_offset must leave room for every server: it must be >= server_ip_offset + server_count."
  }
}

# ---------------------------------------------------------------------------------------------------
# On-premises network (Proxmox and vSphere)
# ---------------------------------------------------------------------------------------------------

variable "gateway" {
  description = "Default gateway of the node network. null means the first host of network_cidr."
  type        = string
  default     = null

  validation {
    condition     = var.gateway == null || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.gateway))
    error_message = "gateway must be an IPv4 address or null."
  }
}

variable "dns_servers" {
  description = "DNS resolvers written into each VM by cloud-init."
  type        = list(string)
  default     = ["1.1.1.1", "9.9.9.9"]

  validation {
    condition     = length(var.dns_servers) > 0 && alltrue([for s in var.dns_servers : can(regex("^[0-9a-fA-F:.]+$", s))])
    error_message = "dns_servers must hold at least one IP address."
  }
}

variable "dns_domain" {
  description = "DNS search domain of the nodes (empty for none)."
  type        = string
  default     = ""
}

# ---------------------------------------------------------------------------------------------------
# Proxmox VE specific
# ---------------------------------------------------------------------------------------------------

variable "proxmox_nodes" {
  description = "Proxmox VE nodes to place VMs on, round-robin, so that servers land on different hypervisors. Use at least as many nodes as servers for full failure isolation."
  type        = list(string)

  validation {
    condition     = length(var.proxmox_nodes) > 0
    error_message = "proxmox_nodes must name at least one Proxmox VE node."
  }
}

variable "template_vm_id" {
  description = "VM id of the cloud-init enabled template to clone (e.g. an Ubuntu 24.04 cloud image turned into a template). It must live on shared storage or on template_node."
  type        = number

  validation {
    condition     = var.template_vm_id >= 100
    error_message = "template_vm_id must be a Proxmox VM id (100 or more)."
  }
}

variable "template_node" {
  description = "Node that holds the template. null means the first of proxmox_nodes."
  type        = string
  default     = null
}

variable "datastore_id" {
  description = "Datastore for the VM disks and the cloud-init drive."
  type        = string
  default     = "local-lvm"
}

variable "network_bridge" {
  description = "Linux bridge (or SDN vnet) the VMs attach to."
  type        = string
  default     = "vmbr0"
}

variable "vlan_id" {
  description = "VLAN tag on the VM network device. null means untagged."
  type        = number
  default     = null

  validation {
    condition     = var.vlan_id == null || try(var.vlan_id >= 1 && var.vlan_id <= 4094, false)
    error_message = "vlan_id must be between 1 and 4094, or null."
  }
}

variable "vm_id_base" {
  description = "First VM id: servers get base + i, agents base + 50 + i. null lets Proxmox pick free ids."
  type        = number
  default     = null

  validation {
    condition     = var.vm_id_base == null || try(var.vm_id_base >= 100, false)
    error_message = "vm_id_base must be 100 or more, or null."
  }
}

variable "cpu_type" {
  description = "Emulated CPU type. x86-64-v2-AES keeps live migration possible across mixed hosts; use host for best speed on uniform clusters."
  type        = string
  default     = "x86-64-v2-AES"
}

variable "qemu_agent_enabled" {
  description = "Enable the QEMU guest agent device. Only set true when the template starts qemu-guest-agent, otherwise shutdowns and refreshes wait for its timeout."
  type        = bool
  default     = false
}

variable "firewall_enabled" {
  description = "Manage the Proxmox firewall of each VM: inbound policy DROP, SSH and 6443 only from admin_cidr, everything from network_cidr, HTTP(S) from anywhere. Needs the datacenter firewall switched on."
  type        = bool
  default     = true
}

variable "pod_cidr" {
  description = "Pod CIDR of the cluster (ansible k3s_server_cluster_cidr), accepted by the VM firewall for pod traffic Calico routes without encapsulation."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.pod_cidr, 0))
    error_message = "pod_cidr must be a valid IPv4 CIDR."
  }
}
