# Root module for one Proxmox VE site: the installer copies this folder next to the site's
# terraform.tfvars.json and runs `terraform init && terraform apply` in it.
#
#   export PROXMOX_VE_API_TOKEN='terraform@pve!uyoop=<secret>'
#   terraform init && terraform apply

provider "proxmox" {
  endpoint = var.proxmox_endpoint
  insecure = var.proxmox_insecure
}

module "k3s_nodes" {
  source = "../.."

  site_name          = var.site_name
  server_count       = var.server_count
  agent_count        = var.agent_count
  server_size        = var.server_size
  agent_size         = var.agent_size
  network_cidr       = var.network_cidr
  ssh_public_key     = var.ssh_public_key
  admin_cidr         = var.admin_cidr
  admin_username     = var.admin_username
  tags               = var.tags
  server_ip_offset   = var.server_ip_offset
  agent_ip_offset    = var.agent_ip_offset
  gateway            = var.gateway
  dns_servers        = var.dns_servers
  dns_domain         = var.dns_domain
  proxmox_nodes      = var.proxmox_nodes
  template_vm_id     = var.template_vm_id
  template_node      = var.template_node
  datastore_id       = var.datastore_id
  network_bridge     = var.network_bridge
  vlan_id            = var.vlan_id
  vm_id_base         = var.vm_id_base
  cpu_type           = var.cpu_type
  qemu_agent_enabled = var.qemu_agent_enabled
  firewall_enabled   = var.firewall_enabled
  pod_cidr           = var.pod_cidr
}

output "servers" {
  description = "K3s servers as {name, ip}, first one initializes etcd."
  value       = module.k3s_nodes.servers
}

output "agents" {
  description = "K3s agents as {name, ip}."
  value       = module.k3s_nodes.agents
}

output "api_endpoint" {
  description = "Kubernetes API address for agents and kubectl."
  value       = module.k3s_nodes.api_endpoint
}

output "ssh_user" {
  description = "User Ansible connects as."
  value       = module.k3s_nodes.ssh_user
}

output "admin_cidr" {
  description = "CIDR allowed to reach SSH and the API."
  value       = module.k3s_nodes.admin_cidr
}
