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
  description = "IPv4 CIDR of the node network (the subnet behind network_bridge). Node addresses are taken from it at server_ip_offset and agent_ip_offset."
  type        = string
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for admin_username by cloud-init (the only way in: passwords stay disabled)."
  type        = string
}

variable "admin_cidr" {
  description = "IPv4 CIDR allowed to reach SSH (22) and the Kubernetes API (6443) from outside network_cidr. Enforced by the Proxmox VM firewall when firewall_enabled, and by the hosts' nftables (Ansible role common)."
  type        = string
}

variable "admin_username" {
  description = "Login created by cloud-init on every VM, with ssh_public_key and passwordless sudo; Ansible connects as this user."
  type        = string
  default     = "uyoop"
}

variable "tags" {
  description = "Extra tags for every VM, merged over app=uyoop-cal, site=<site_name>, managed-by=terraform. Proxmox tags are flat strings: each pair becomes \"key-value\", lowercased."
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

variable "gateway" {
  description = "Default gateway of the node network. null means the first host of network_cidr."
  type        = string
  default     = null
}

variable "dns_servers" {
  description = "DNS resolvers written into each VM by cloud-init."
  type        = list(string)
  default     = ["1.1.1.1", "9.9.9.9"]
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
}

variable "template_vm_id" {
  description = "VM id of the cloud-init enabled template to clone (e.g. an Ubuntu 24.04 cloud image turned into a template). It must live on shared storage or on template_node."
  type        = number
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
}

variable "vm_id_base" {
  description = "First VM id: servers get base + i, agents base + 50 + i. null lets Proxmox pick free ids."
  type        = number
  default     = null
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
}

# ---------------------------------------------------------------------------------------------------
# Provider connection (root module only; the credentials come from the environment, never tfvars)
# ---------------------------------------------------------------------------------------------------

variable "proxmox_endpoint" {
  description = "URL of the Proxmox VE API, e.g. https://pve1.example.internal:8006/. The API token is read from PROXMOX_VE_API_TOKEN."
  type        = string
}

variable "proxmox_insecure" {
  description = "Skip TLS verification of the Proxmox VE API. Leave false; true only for a lab with a self-signed certificate."
  type        = bool
  default     = false
}
