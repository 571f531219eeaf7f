# Root module for one vSphere site: the installer copies this folder next to the site's
# terraform.tfvars.json and runs `terraform init && terraform apply` in it.
#
#   export VSPHERE_USER='svc-uyoop@vsphere.local' VSPHERE_PASSWORD='<secret>'
#   terraform init && terraform apply

provider "vsphere" {
  vsphere_server       = var.vsphere_server
  allow_unverified_ssl = var.vsphere_allow_unverified_ssl
}

module "k3s_nodes" {
  source = "../.."

  site_name             = var.site_name
  server_count          = var.server_count
  agent_count           = var.agent_count
  server_size           = var.server_size
  agent_size            = var.agent_size
  network_cidr          = var.network_cidr
  ssh_public_key        = var.ssh_public_key
  admin_cidr            = var.admin_cidr
  admin_username        = var.admin_username
  tags                  = var.tags
  server_ip_offset      = var.server_ip_offset
  agent_ip_offset       = var.agent_ip_offset
  gateway               = var.gateway
  dns_servers           = var.dns_servers
  dns_domain            = var.dns_domain
  vsphere_datacenter    = var.vsphere_datacenter
  vsphere_cluster       = var.vsphere_cluster
  vsphere_datastore     = var.vsphere_datastore
  vsphere_network       = var.vsphere_network
  vsphere_template      = var.vsphere_template
  vsphere_folder        = var.vsphere_folder
  anti_affinity_enabled = var.anti_affinity_enabled
  disk_thin_provisioned = var.disk_thin_provisioned
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
