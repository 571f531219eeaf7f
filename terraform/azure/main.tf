# K3s machines on Azure: one vnet/subnet fenced by an NSG (SSH and the API from admin_cidr only),
# VMs without public addresses spread over availability zones, an optional internal load balancer
# giving the API and the ingress one private address, and an optional NAT gateway for egress.

locals {
  create_resource_group = var.resource_group_name == null
  resource_group_name   = local.create_resource_group ? azurerm_resource_group.this[0].name : var.resource_group_name
  name                  = "uyoop-${var.site_name}"

  tags = merge(
    {
      app        = "uyoop-cal"
      site       = var.site_name
      managed-by = "terraform"
    },
    var.tags,
  )

  # VM size from the shared size object when none is given: vCPU count plus GiB per vCPU pick the
  # family (Fsv2 ~2, Dsv5 ~4, Esv5 ~8 GiB per vCPU).
  derived_size = {
    for role, size in { server = var.server_size, agent = var.agent_size } : role => (
      size.memory_mb / 1024 / size.cpu <= 2 ? "Standard_F${size.cpu}s_v2" :
      size.memory_mb / 1024 / size.cpu <= 4 ? "Standard_D${size.cpu}s_v5" :
      "Standard_E${size.cpu}s_v5"
    )
  }
  vm_size = {
    server = coalesce(var.server_vm_size, local.derived_size.server)
    agent  = coalesce(var.agent_vm_size, local.derived_size.agent)
  }

  servers = [
    for i in range(var.server_count) : {
      name = format("%s-server-%d", var.site_name, i + 1)
      ip   = cidrhost(var.network_cidr, var.server_ip_offset + i)
      role = "server"
      zone = length(var.zones) == 0 ? null : var.zones[i % length(var.zones)]
      size = var.server_size
    }
  ]
  agents = [
    for i in range(var.agent_count) : {
      name = format("%s-agent-%d", var.site_name, i + 1)
      ip   = cidrhost(var.network_cidr, var.agent_ip_offset + i)
      role = "agent"
      zone = length(var.zones) == 0 ? null : var.zones[i % length(var.zones)]
      size = var.agent_size
    }
  ]
  nodes = { for n in concat(local.servers, local.agents) : n.name => n }

  lb_ip = cidrhost(var.network_cidr, var.api_lb_ip_offset)
  # Nodes that answer on 80/443: agents, or the servers when the cluster has no agents.
  ingress_nodes   = var.agent_count > 0 ? [for a in local.agents : a.name] : [for s in local.servers : s.name]
  ingress_sources = length(var.ingress_source_cidrs) > 0 ? var.ingress_source_cidrs : [var.admin_cidr, var.network_cidr]

  # Azure hands admin_username and ssh_public_key to cloud-init in the image (admin_ssh_key below);
  # this user data only locks the rest down.
  cloud_init = <<-EOT
    #cloud-config
    disable_root: true
    ssh_pwauth: false
    package_update: false
    package_upgrade: false
  EOT
}

resource "azurerm_resource_group" "this" {
  count = local.create_resource_group ? 1 : 0

  name     = "rg-${local.name}"
  location = var.location
  tags     = local.tags
}

resource "azurerm_virtual_network" "this" {
  name                = "vnet-${local.name}"
  location            = var.location
  resource_group_name = local.resource_group_name
  address_space       = [var.network_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-${local.name}-nodes"
  resource_group_name  = local.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [var.network_cidr]
  # No implicit Internet egress: outbound goes through the NAT gateway (or a hub firewall) only.
  default_outbound_access_enabled = false
}

resource "azurerm_network_security_group" "nodes" {
  name                = "nsg-${local.name}-nodes"
  location            = var.location
  resource_group_name = local.resource_group_name
  tags                = local.tags

  security_rule {
    name                       = "allow-ssh-admin"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "22"
    source_address_prefix      = var.admin_cidr
    destination_address_prefix = var.network_cidr
  }

  security_rule {
    name                       = "allow-kube-api-admin"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "6443"
    source_address_prefix      = var.admin_cidr
    destination_address_prefix = var.network_cidr
  }

  security_rule {
    name                       = "allow-ingress-https"
    priority                   = 120
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["80", "443"]
    source_address_prefixes    = local.ingress_sources
    destination_address_prefix = var.network_cidr
  }

  # etcd, kubelet, Calico VXLAN and pod traffic between the nodes themselves.
  security_rule {
    name                       = "allow-node-network"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = var.network_cidr
    destination_address_prefix = var.network_cidr
  }

  # The deny below would otherwise also drop the load balancer's health probes.
  security_rule {
    name                       = "allow-azure-lb-probes"
    priority                   = 300
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["80", "443", "6443"]
    source_address_prefix      = "AzureLoadBalancer"
    destination_address_prefix = var.network_cidr
  }

  # Replaces the broad default AllowVnetInBound (peered networks, VPN) with the rules above.
  security_rule {
    name                       = "deny-all-inbound"
    priority                   = 4096
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "nodes" {
  subnet_id                 = azurerm_subnet.nodes.id
  network_security_group_id = azurerm_network_security_group.nodes.id
}

resource "azurerm_public_ip" "nat" {
  count = var.nat_gateway_enabled ? 1 : 0

  name                = "pip-${local.name}-nat"
  location            = var.location
  resource_group_name = local.resource_group_name
  allocation_method   = "Static"
  sku                 = "Standard"
  zones               = var.zones
  tags                = local.tags
}

resource "azurerm_nat_gateway" "this" {
  count = var.nat_gateway_enabled ? 1 : 0

  name                    = "ng-${local.name}"
  location                = var.location
  resource_group_name     = local.resource_group_name
  sku_name                = "Standard"
  idle_timeout_in_minutes = 10
  tags                    = local.tags
}

resource "azurerm_nat_gateway_public_ip_association" "this" {
  count = var.nat_gateway_enabled ? 1 : 0

  nat_gateway_id       = azurerm_nat_gateway.this[0].id
  public_ip_address_id = azurerm_public_ip.nat[0].id
}

resource "azurerm_subnet_nat_gateway_association" "this" {
  count = var.nat_gateway_enabled ? 1 : 0

  subnet_id      = azurerm_subnet.nodes.id
  nat_gateway_id = azurerm_nat_gateway.this[0].id
}

resource "azurerm_network_interface" "node" {
  for_each = local.nodes

  name                = "nic-${each.key}"
  location            = var.location
  resource_group_name = local.resource_group_name
  tags                = merge(local.tags, { k3s-role = each.value.role })

  ip_configuration {
    name                          = "primary"
    subnet_id                     = azurerm_subnet.nodes.id
    private_ip_address_allocation = "Static"
    private_ip_address            = each.value.ip
  }

  lifecycle {
    precondition {
      condition     = var.server_ip_offset >= 4
      error_message = "On Azure server_ip_offset must be at least 4: the first four addresses of a subnet are reserved."
    }
    precondition {
      condition     = !var.api_lb_enabled || !contains([for n in values(local.nodes) : n.ip], local.lb_ip)
      error_message = "api_lb_ip_offset points at a node address; move it below server_ip_offset."
    }
  }
}

resource "azurerm_linux_virtual_machine" "node" {
  for_each = local.nodes

  name                  = each.key
  computer_name         = each.key
  location              = var.location
  resource_group_name   = local.resource_group_name
  size                  = local.vm_size[each.value.role]
  zone                  = each.value.zone
  network_interface_ids = [azurerm_network_interface.node[each.key].id]
  tags                  = merge(local.tags, { k3s-role = each.value.role })

  admin_username                  = var.admin_username
  disable_password_authentication = true
  admin_ssh_key {
    username   = var.admin_username
    public_key = trimspace(var.ssh_public_key)
  }
  custom_data = base64encode(local.cloud_init)

  # Hardening: no extensions (nothing runs as root outside Ansible's view), encryption at host,
  # Trusted Launch. Patching is unattended-upgrades' job (role common), not the platform's.
  allow_extension_operations = false
  encryption_at_host_enabled = var.encryption_at_host_enabled
  secure_boot_enabled        = var.trusted_launch_enabled
  vtpm_enabled               = var.trusted_launch_enabled

  os_disk {
    name                   = "osdisk-${each.key}"
    caching                = "ReadWrite"
    storage_account_type   = var.os_disk_type
    disk_size_gb           = each.value.size.disk_gb
    disk_encryption_set_id = var.disk_encryption_set_id
  }

  source_image_reference {
    publisher = var.vm_image.publisher
    offer     = var.vm_image.offer
    sku       = var.vm_image.sku
    version   = var.vm_image.version
  }

  # Managed storage account: serial console and screenshots without a storage account to secure.
  boot_diagnostics {}

  lifecycle {
    # A newer "latest" image must not recreate running nodes; roll nodes explicitly with -replace.
    ignore_changes = [source_image_reference[0].version, custom_data]

    precondition {
      condition = (
        (each.value.role == "server" ? var.server_vm_size : var.agent_vm_size) != null ||
        contains([2, 4, 8, 16, 32, 48, 64], each.value.size.cpu)
      )
      error_message = "Without server_vm_size/agent_vm_size, cpu must be 2, 4, 8, 16, 32, 48 or 64 (the sizes the Fsv2, Dsv5 and Esv5 families share)."
    }
  }

  depends_on = [azurerm_subnet_network_security_group_association.nodes]
}

# ---------------------------------------------------------------------------------------------------
# Internal load balancer: one private address for the API (6443) and the ingress (80/443)
# ---------------------------------------------------------------------------------------------------

resource "azurerm_lb" "internal" {
  count = var.api_lb_enabled ? 1 : 0

  name                = "lbi-${local.name}"
  location            = var.location
  resource_group_name = local.resource_group_name
  sku                 = "Standard"
  tags                = local.tags

  frontend_ip_configuration {
    name                          = "private"
    subnet_id                     = azurerm_subnet.nodes.id
    private_ip_address_allocation = "Static"
    private_ip_address            = local.lb_ip
    zones                         = length(var.zones) == 0 ? null : var.zones
  }
}

resource "azurerm_lb_backend_address_pool" "servers" {
  count = var.api_lb_enabled ? 1 : 0

  name            = "servers"
  loadbalancer_id = azurerm_lb.internal[0].id
}

resource "azurerm_lb_backend_address_pool" "ingress" {
  count = var.api_lb_enabled ? 1 : 0

  name            = "ingress"
  loadbalancer_id = azurerm_lb.internal[0].id
}

resource "azurerm_network_interface_backend_address_pool_association" "servers" {
  for_each = var.api_lb_enabled ? toset([for s in local.servers : s.name]) : toset([])

  network_interface_id    = azurerm_network_interface.node[each.key].id
  ip_configuration_name   = "primary"
  backend_address_pool_id = azurerm_lb_backend_address_pool.servers[0].id
}

resource "azurerm_network_interface_backend_address_pool_association" "ingress" {
  for_each = var.api_lb_enabled ? toset(local.ingress_nodes) : toset([])

  network_interface_id    = azurerm_network_interface.node[each.key].id
  ip_configuration_name   = "primary"
  backend_address_pool_id = azurerm_lb_backend_address_pool.ingress[0].id
}

resource "azurerm_lb_probe" "ports" {
  for_each = var.api_lb_enabled ? { api = 6443, http = 80, https = 443 } : {}

  name                = "tcp-${each.value}"
  loadbalancer_id     = azurerm_lb.internal[0].id
  protocol            = "Tcp"
  port                = each.value
  interval_in_seconds = 5
  number_of_probes    = 2
}

resource "azurerm_lb_rule" "ports" {
  for_each = var.api_lb_enabled ? { api = 6443, http = 80, https = 443 } : {}

  name                           = "${each.key}-${each.value}"
  loadbalancer_id                = azurerm_lb.internal[0].id
  protocol                       = "Tcp"
  frontend_port                  = each.value
  backend_port                   = each.value
  frontend_ip_configuration_name = "private"
  backend_address_pool_ids       = [each.key == "api" ? azurerm_lb_backend_address_pool.servers[0].id : azurerm_lb_backend_address_pool.ingress[0].id]
  probe_id                       = azurerm_lb_probe.ports[each.key].id
  idle_timeout_in_minutes        = 30
  tcp_reset_enabled              = true
}
