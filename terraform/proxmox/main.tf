# K3s machines on Proxmox VE: full clones of a cloud-init template, static addresses from
# network_cidr, spread round-robin over the given nodes, optionally fenced by the VM firewall.

locals {
  prefix_length = tonumber(split("/", var.network_cidr)[1])
  gateway       = coalesce(var.gateway, cidrhost(var.network_cidr, 1))
  template_node = coalesce(var.template_node, var.proxmox_nodes[0])

  tags = merge(
    {
      app        = "uyoop-cal"
      site       = var.site_name
      managed-by = "terraform"
    },
    var.tags,
  )
  # Proxmox tags are flat, sorted, [a-z0-9_-] strings; it re-sorts them itself, so sort to avoid diffs.
  flat_tags = [for k, v in local.tags : lower(replace("${k}-${v}", "/[^a-zA-Z0-9_-]/", "_"))]

  servers = [
    for i in range(var.server_count) : {
      name  = format("%s-server-%d", var.site_name, i + 1)
      ip    = cidrhost(var.network_cidr, var.server_ip_offset + i)
      role  = "server"
      node  = var.proxmox_nodes[i % length(var.proxmox_nodes)]
      vm_id = var.vm_id_base == null ? null : var.vm_id_base + i
      size  = var.server_size
    }
  ]
  agents = [
    for i in range(var.agent_count) : {
      name  = format("%s-agent-%d", var.site_name, i + 1)
      ip    = cidrhost(var.network_cidr, var.agent_ip_offset + i)
      role  = "agent"
      node  = var.proxmox_nodes[(var.server_count + i) % length(var.proxmox_nodes)]
      vm_id = var.vm_id_base == null ? null : var.vm_id_base + 50 + i
      size  = var.agent_size
    }
  ]
  # Keyed by name, not by index: scaling agents down removes the last ones, never renumbers the rest.
  nodes = { for n in concat(local.servers, local.agents) : n.name => n }
}

resource "proxmox_virtual_environment_vm" "node" {
  for_each = local.nodes

  name        = each.key
  description = "uYoop-Cal K3s ${each.value.role} of site ${var.site_name}. Managed by Terraform."
  node_name   = each.value.node
  vm_id       = each.value.vm_id
  tags        = sort(concat(local.flat_tags, ["k3s-${each.value.role}"]))

  on_boot         = true
  started         = true
  stop_on_destroy = true
  scsi_hardware   = "virtio-scsi-single"

  clone {
    vm_id        = var.template_vm_id
    node_name    = local.template_node
    datastore_id = var.datastore_id
    full         = true
    retries      = 3
  }

  agent {
    enabled = var.qemu_agent_enabled
  }

  cpu {
    cores = each.value.size.cpu
    type  = var.cpu_type
  }

  memory {
    dedicated = each.value.size.memory_mb
  }

  disk {
    datastore_id = var.datastore_id
    interface    = "scsi0"
    size         = each.value.size.disk_gb
    file_format  = "raw"
    discard      = "on"
    iothread     = true
    ssd          = true
  }

  network_device {
    bridge   = var.network_bridge
    vlan_id  = var.vlan_id
    model    = "virtio"
    firewall = var.firewall_enabled
  }

  operating_system {
    type = "l26"
  }

  # Cloud images log to the serial console; without it some of them hang at boot.
  serial_device {}

  initialization {
    datastore_id = var.datastore_id

    ip_config {
      ipv4 {
        address = "${each.value.ip}/${local.prefix_length}"
        gateway = local.gateway
      }
    }

    dns {
      domain  = var.dns_domain == "" ? null : var.dns_domain
      servers = var.dns_servers
    }

    user_account {
      username = var.admin_username
      keys     = [trimspace(var.ssh_public_key)]
    }
  }

  lifecycle {
    # A newer template must not recreate running nodes; roll nodes explicitly with -replace.
    ignore_changes = [clone]
  }
}

resource "proxmox_virtual_environment_firewall_options" "node" {
  for_each = var.firewall_enabled ? local.nodes : {}

  node_name = each.value.node
  vm_id     = proxmox_virtual_environment_vm.node[each.key].vm_id

  enabled       = true
  input_policy  = "DROP"
  output_policy = "ACCEPT"
  dhcp          = false
  # No IP filter: with Calico's routed (unencapsulated) mode, pods' addresses leave the VM too.
  ipfilter     = false
  macfilter    = true
  ndp          = true
  radv         = false
  log_level_in = "warning"
}

resource "proxmox_virtual_environment_firewall_rules" "node" {
  for_each = var.firewall_enabled ? local.nodes : {}

  node_name = each.value.node
  vm_id     = proxmox_virtual_environment_vm.node[each.key].vm_id

  # Node-to-node traffic (etcd, kubelet, Calico BGP/VXLAN/IPIP, pod traffic) stays inside the node
  # network; the finer per-port policy lives in each host's nftables (Ansible role common).
  rule {
    type    = "in"
    action  = "ACCEPT"
    source  = var.network_cidr
    comment = "node network"
  }

  # Pod-to-pod traffic that Calico routes without encapsulation keeps the pods' addresses.
  rule {
    type    = "in"
    action  = "ACCEPT"
    source  = var.pod_cidr
    comment = "pod network (Calico routed mode)"
  }

  rule {
    type    = "in"
    action  = "ACCEPT"
    proto   = "tcp"
    dport   = "22"
    source  = var.admin_cidr
    comment = "SSH from admin_cidr"
  }

  rule {
    type    = "in"
    action  = "ACCEPT"
    proto   = "tcp"
    dport   = "6443"
    source  = var.admin_cidr
    comment = "Kubernetes API from admin_cidr"
  }

  rule {
    type    = "in"
    action  = "ACCEPT"
    proto   = "tcp"
    dport   = "80,443"
    comment = "ingress-nginx (HTTP redirect + HTTPS)"
  }

  rule {
    type    = "in"
    action  = "ACCEPT"
    proto   = "icmp"
    comment = "ICMP (path MTU discovery, ping)"
  }

  depends_on = [proxmox_virtual_environment_firewall_options.node]
}
