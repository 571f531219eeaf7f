# The Ansible inventory is built from `servers` and `agents`; order is stable (server-1 first, and
# server-1 is the node that runs `--cluster-init`).

output "servers" {
  description = "K3s server VMs in creation order, as {name, ip} (private addresses). The first one initializes the etcd cluster."
  value       = [for s in local.servers : { name = s.name, ip = s.ip }]
}

output "agents" {
  description = "K3s agent VMs in creation order, as {name, ip} (private addresses)."
  value       = [for a in local.agents : { name = a.name, ip = a.ip }]
}

output "api_endpoint" {
  description = "Address the agents and kubectl use for the Kubernetes API: the internal load balancer when api_lb_enabled, else the first server. Add it to the K3s TLS SANs."
  value       = var.api_lb_enabled ? local.lb_ip : local.servers[0].ip
}

output "ingress_ip" {
  description = "Private address serving HTTP/HTTPS (the internal load balancer), or null without it. Point the site's DNS name here."
  value       = var.api_lb_enabled ? local.lb_ip : null
}

output "ssh_user" {
  description = "User Ansible connects as (admin_username)."
  value       = var.admin_username
}

output "admin_cidr" {
  description = "CIDR allowed to reach SSH and the API, passed on to the hosts' nftables (ansible common_firewall_admin_cidrs)."
  value       = var.admin_cidr
}

output "resource_group_name" {
  description = "Resource group holding the site."
  value       = local.resource_group_name
}

output "vm_sizes" {
  description = "Azure VM size used for each role, as derived from server_size/agent_size or given."
  value       = local.vm_size
}
