# Containers must mount their root filesystem read-only; writable paths are explicit volumes
# (emptyDir for /tmp). SECURITY.md item 27.
package k8spspreadonlyrootfilesystem

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

violation contains {"msg": msg, "details": {"container": object.get(c, "name", "")}} if {
	some [field, c] in containers
	object.get(c, ["securityContext", "readOnlyRootFilesystem"], false) != true
	msg := sprintf("%s must set securityContext.readOnlyRootFilesystem: true", [ctr_ref(field, c)])
}
