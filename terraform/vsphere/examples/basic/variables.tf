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
  description = "Extra tags for every resource, merged over app=uyoop-cal, site=<site_name>, managed-by=terraform. Azure uses them as is; Proxmox flattens each pair to a \"key-value\" tag; vSphere turns each pair into a \"key=value\" tag in the site's tag category."
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
# On-premises network (Proxmox and vSphere)
# ---------------------------------------------------------------------------------------------------

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
# vSphere specific
# ---------------------------------------------------------------------------------------------------

variable "vsphere_datacenter" {
  description = "vSphere datacenter name."
  type        = string
}

variable "vsphere_cluster" {
  description = "Compute cluster the VMs run in (its root resource pool is used)."
  type        = string
}

variable "vsphere_datastore" {
  description = "Datastore for the VM disks. etcd wants low-latency storage (SSD/NVMe backed)."
  type        = string
}

variable "vsphere_network" {
  description = "Port group (standard or distributed) the VMs attach to; its subnet is network_cidr."
  type        = string
}

variable "vsphere_template" {
  description = "Name or inventory path of the VM template to clone: a cloud-init image (e.g. Ubuntu 24.04 cloud OVA) with open-vm-tools, whose cloud-init reads the VMware guestinfo datasource."
  type        = string
}

variable "vsphere_folder" {
  description = "Existing VM folder path to place the VMs in. null creates the folder uyoop-<site_name> at the datacenter root."
  type        = string
  default     = null
}

variable "anti_affinity_enabled" {
  description = "Add a DRS anti-affinity rule so that no two servers share an ESXi host (needs DRS and at least server_count hosts)."
  type        = bool
  default     = true
}

variable "disk_thin_provisioned" {
  description = "Thin-provision the root disks. false gives eager-zeroed thick disks, steadier etcd latency at the cost of space."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------
# Provider connection (root module only; credentials come from the environment, never tfvars)
# ---------------------------------------------------------------------------------------------------

variable "vsphere_server" {
  description = "vCenter host name. The user and password are read from VSPHERE_USER and VSPHERE_PASSWORD."
  type        = string
}

variable "vsphere_allow_unverified_ssl" {
  description = "Skip TLS verification of vCenter. Leave false; true only for a lab with a self-signed certificate."
  type        = bool
  default     = false
}
