# The Ansible inventory is built from `servers` and `agents`; order is stable (server-1 first, and
# server-1 is the node that runs `--cluster-init`).

output "servers" {
  description = "K3s server VMs in creation order, as {name, ip}. The first one initializes the etcd cluster."
  value       = [for s in local.servers : { name = s.name, ip = s.ip }]
}

output "agents" {
  description = "K3s agent VMs in creation order, as {name, ip}."
  value       = [for a in local.agents : { name = a.name, ip = a.ip }]
}

output "api_endpoint" {
  description = "Address the agents and kubectl use for the Kubernetes API (the first server; K3s agents then learn every server and balance between them)."
  value       = local.servers[0].ip
}

output "ssh_user" {
  description = "User Ansible connects as (admin_username)."
  value       = var.admin_username
}

output "admin_cidr" {
  description = "CIDR allowed to reach SSH and the API, passed on to the hosts' nftables (ansible common_firewall_admin_cidrs)."
  value       = var.admin_cidr
}

output "vm_uuids" {
  description = "vSphere UUID of each node, by name."
  value       = { for name, vm in vsphere_virtual_machine.node : name => vm.uuid }
}
