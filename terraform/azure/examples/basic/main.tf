# Root module for one Azure site: the installer copies this folder next to the site's
# terraform.tfvars.json and runs `terraform init && terraform apply` in it.
#
#   az login   # or ARM_CLIENT_ID / ARM_TENANT_ID with OIDC or a certificate
#   terraform init && terraform apply

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
  # Register only the resource providers this module uses, not every one the provider knows.
  resource_provider_registrations = "core"
}

module "k3s_nodes" {
  source = "../.."

  site_name                  = var.site_name
  server_count               = var.server_count
  agent_count                = var.agent_count
  server_size                = var.server_size
  agent_size                 = var.agent_size
  network_cidr               = var.network_cidr
  ssh_public_key             = var.ssh_public_key
  admin_cidr                 = var.admin_cidr
  admin_username             = var.admin_username
  tags                       = var.tags
  server_ip_offset           = var.server_ip_offset
  agent_ip_offset            = var.agent_ip_offset
  location                   = var.location
  resource_group_name        = var.resource_group_name
  zones                      = var.zones
  server_vm_size             = var.server_vm_size
  agent_vm_size              = var.agent_vm_size
  vm_image                   = var.vm_image
  os_disk_type               = var.os_disk_type
  encryption_at_host_enabled = var.encryption_at_host_enabled
  disk_encryption_set_id     = var.disk_encryption_set_id
  trusted_launch_enabled     = var.trusted_launch_enabled
  ingress_source_cidrs       = var.ingress_source_cidrs
  api_lb_enabled             = var.api_lb_enabled
  api_lb_ip_offset           = var.api_lb_ip_offset
  nat_gateway_enabled        = var.nat_gateway_enabled
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

output "ingress_ip" {
  description = "Private address serving HTTP/HTTPS."
  value       = module.k3s_nodes.ingress_ip
}
