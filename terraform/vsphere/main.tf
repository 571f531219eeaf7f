# K3s machines on vSphere: clones of a cloud-init template configured through the VMware guestinfo
# datasource (static address, admin user and key), kept on separate hosts by a DRS rule.

locals {
  prefix_length = tonumber(split("/", var.network_cidr)[1])
  gateway       = coalesce(var.gateway, cidrhost(var.network_cidr, 1))
  folder        = var.vsphere_folder == null ? vsphere_folder.site[0].path : var.vsphere_folder

  tags = merge(
    {
      app        = "uyoop-cal"
      site       = var.site_name
      managed-by = "terraform"
    },
    var.tags,
  )
  # One tag category per site holds "key=value" tags, plus the node role.
  tag_names = toset(concat(
    [for k, v in local.tags : "${k}=${v}"],
    ["k3s-role=server", "k3s-role=agent"],
  ))

  servers = [
    for i in range(var.server_count) : {
      name = format("%s-server-%d", var.site_name, i + 1)
      ip   = cidrhost(var.network_cidr, var.server_ip_offset + i)
      role = "server"
      size = var.server_size
    }
  ]
  agents = [
    for i in range(var.agent_count) : {
      name = format("%s-agent-%d", var.site_name, i + 1)
      ip   = cidrhost(var.network_cidr, var.agent_ip_offset + i)
      role = "agent"
      size = var.agent_size
    }
  ]
  nodes = { for n in concat(local.servers, local.agents) : n.name => n }

  template = data.vsphere_virtual_machine.template
}

data "vsphere_datacenter" "this" {
  name = var.vsphere_datacenter
}

data "vsphere_compute_cluster" "this" {
  name          = var.vsphere_cluster
  datacenter_id = data.vsphere_datacenter.this.id
}

data "vsphere_datastore" "this" {
  name          = var.vsphere_datastore
  datacenter_id = data.vsphere_datacenter.this.id
}

data "vsphere_network" "this" {
  name          = var.vsphere_network
  datacenter_id = data.vsphere_datacenter.this.id
}

data "vsphere_virtual_machine" "template" {
  name          = var.vsphere_template
  datacenter_id = data.vsphere_datacenter.this.id
}

resource "vsphere_folder" "site" {
  count = var.vsphere_folder == null ? 1 : 0

  path          = "uyoop-${var.site_name}"
  type          = "vm"
  datacenter_id = data.vsphere_datacenter.this.id
}

resource "vsphere_tag_category" "site" {
  name             = "uyoop-${var.site_name}"
  description      = "uYoop-Cal site ${var.site_name}: key=value tags. Managed by Terraform."
  cardinality      = "MULTIPLE"
  associable_types = ["VirtualMachine"]
}

resource "vsphere_tag" "site" {
  for_each = local.tag_names

  name        = each.value
  category_id = vsphere_tag_category.site.id
  description = "Managed by Terraform."
}

resource "vsphere_virtual_machine" "node" {
  for_each = local.nodes

  name             = each.key
  annotation       = "uYoop-Cal K3s ${each.value.role} of site ${var.site_name}. Managed by Terraform."
  folder           = local.folder
  resource_pool_id = data.vsphere_compute_cluster.this.resource_pool_id
  datastore_id     = data.vsphere_datastore.this.id
  tags = concat(
    [for k, v in local.tags : vsphere_tag.site["${k}=${v}"].id],
    [vsphere_tag.site["k3s-role=${each.value.role}"].id],
  )

  num_cpus  = each.value.size.cpu
  memory    = each.value.size.memory_mb
  guest_id  = local.template.guest_id
  firmware  = local.template.firmware
  scsi_type = local.template.scsi_type
  # Stable disk serials under /dev/disk/by-id, which CSI drivers and etcd tooling rely on.
  enable_disk_uuid = true

  network_interface {
    network_id   = data.vsphere_network.this.id
    adapter_type = local.template.network_interface_types[0]
  }

  disk {
    label            = "disk0"
    size             = max(each.value.size.disk_gb, local.template.disks[0].size)
    thin_provisioned = var.disk_thin_provisioned
    eagerly_scrub    = !var.disk_thin_provisioned
  }

  clone {
    template_uuid = local.template.id
  }

  # cloud-init's VMware datasource reads these: network and hostname from metadata, the admin
  # user and its key from user data. No guest customization spec is involved.
  extra_config = {
    "guestinfo.metadata" = base64encode(yamlencode({
      "instance-id"    = each.key
      "local-hostname" = each.key
      network = {
        version = 2
        ethernets = {
          primary = {
            match     = { name = "e*" }
            addresses = ["${each.value.ip}/${local.prefix_length}"]
            routes    = [{ to = "default", via = local.gateway }]
            nameservers = {
              addresses = var.dns_servers
              search    = var.dns_domain == "" ? [] : [var.dns_domain]
            }
          }
        }
      }
    }))
    "guestinfo.metadata.encoding" = "base64"
    "guestinfo.userdata" = base64encode(join("\n", ["#cloud-config", yamlencode({
      disable_root    = true
      ssh_pwauth      = false
      package_update  = false
      package_upgrade = false
      users = [{
        name                = var.admin_username
        groups              = ["sudo"]
        shell               = "/bin/bash"
        sudo                = "ALL=(ALL) NOPASSWD:ALL"
        lock_passwd         = true
        ssh_authorized_keys = [trimspace(var.ssh_public_key)]
      }]
    })]))
    "guestinfo.userdata.encoding" = "base64"
  }

  # The address is static and known; do not wait for VMware Tools to report it.
  wait_for_guest_net_timeout = 0

  lifecycle {
    # A newer template must not recreate running nodes; roll nodes explicitly with -replace.
    ignore_changes = [clone[0].template_uuid]
  }
}

resource "vsphere_compute_cluster_vm_anti_affinity_rule" "servers" {
  count = var.anti_affinity_enabled ? 1 : 0

  name                = "uyoop-${var.site_name}-k3s-servers-apart"
  compute_cluster_id  = data.vsphere_compute_cluster.this.id
  virtual_machine_ids = [for s in local.servers : vsphere_virtual_machine.node[s.name].id]
}
