# Containers must drop ALL Linux capabilities and may add back only those the constraint allows
# (parameter allowedCapabilities; Pod Security "restricted" allows NET_BIND_SERVICE). SECURITY.md 27.
package k8spspcapabilities

# BEGIN shared pod helpers: identical in every pod policy (installer/tests/policies.rs checks it).

# The reviewed object: a Pod or a workload controller.
obj := input.review.object

# Kinds whose spec.template is a PodTemplateSpec.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

# pod_spec is the PodSpec the object runs, whatever its kind.
pod_spec := obj.spec if obj.kind == "Pod"

pod_spec := obj.spec.template.spec if obj.kind in template_kinds

pod_spec := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

# containers holds [field, container] for regular, init and ephemeral containers.
containers contains [field, c] if {
	some field in ["containers", "initContainers", "ephemeralContainers"]
	some c in object.get(pod_spec, field, [])
}

# obj_ref names the object in messages, e.g. `Deployment "uyoop-cal"`.
obj_ref := sprintf("%s %q", [obj.kind, object.get(obj, ["metadata", "name"], object.get(obj, ["metadata", "generateName"], "<unnamed>"))])

# ctr_ref names a container in messages, e.g. `initContainer "migrate"`.
ctr_ref(field, c) := sprintf("%s %q of %s", [trim_suffix(field, "s"), object.get(c, "name", "<unnamed>"), obj_ref])

# effective is a container's securityContext field, falling back to the pod's (runAsNonRoot,
# runAsUser, seccompProfile ...); null when neither sets it.
effective(c, key) := object.get(c, ["securityContext", key], object.get(pod_spec, ["securityContext", key], null))

# END shared pod helpers

# allowed_capabilities is the constraint's allow-list, empty when the parameter is absent.
allowed_capabilities := {cap | some cap in object.get(input, ["parameters", "allowedCapabilities"], [])}

violation contains {"msg": msg, "details": {"container": object.get(c, "name", "")}} if {
	some [field, c] in containers
	not "ALL" in object.get(c, ["securityContext", "capabilities", "drop"], [])
	msg := sprintf("%s must drop ALL capabilities (securityContext.capabilities.drop: [\"ALL\"])", [ctr_ref(field, c)])
}

violation contains {"msg": msg, "details": {"container": object.get(c, "name", ""), "capability": cap}} if {
	some [field, c] in containers
	some cap in object.get(c, ["securityContext", "capabilities", "add"], [])
	not cap in allowed_capabilities
	msg := sprintf("%s adds capability %q; allowed: %v", [ctr_ref(field, c), cap, sort(allowed_capabilities)])
}
