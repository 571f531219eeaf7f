# Every container image must come from an allowed registry (parameter registries: prefixes such as
# "registry.uyoop.local/") and be pinned: a version tag other than `latest`, or a digest. Air-gapped
# appliances pull only from their own mirror, and a floating tag makes rollbacks lie.
package k8sallowedimages

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

# registries are the allowed prefixes, each ending with "/" so that "registry.uyoop.local" cannot be
# matched by "registry.uyoop.local.evil.example/...".
registries := {r | some p in object.get(input, ["parameters", "registries"], []); r := with_slash(p)}

with_slash(p) := p if endswith(p, "/")

with_slash(p) := concat("", [p, "/"]) if not endswith(p, "/")

from_allowed_registry(image) if {
	some r in registries
	startswith(image, r)
}

# tag is the image's tag: after the last ":" of the last path segment, digest removed.
tag(image) := t if {
	name := split(image, "@")[0]
	segments := split(name, "/")
	parts := split(segments[count(segments) - 1], ":")
	count(parts) == 2
	t := parts[1]
	t != ""
}

violation contains {"msg": msg, "details": {"container": object.get(c, "name", ""), "image": image}} if {
	some [field, c] in containers
	image := object.get(c, "image", "")
	not from_allowed_registry(image)
	msg := sprintf("%s uses image %q from outside the allowed registries %v", [ctr_ref(field, c), image, sort(registries)])
}

violation contains {"msg": msg, "details": {"container": object.get(c, "name", ""), "image": image}} if {
	some [field, c] in containers
	image := object.get(c, "image", "")
	tag(image) == "latest"
	msg := sprintf("%s uses image %q with the floating tag latest: pin a version or a digest", [ctr_ref(field, c), image])
}

violation contains {"msg": msg, "details": {"container": object.get(c, "name", ""), "image": image}} if {
	some [field, c] in containers
	image := object.get(c, "image", "")
	not contains(image, "@")
	not tag(image)
	msg := sprintf("%s uses image %q without a tag (implicitly latest): pin a version or a digest", [ctr_ref(field, c), image])
}
