# Objects must carry the labels the constraint lists (parameter labels) with non-empty values, and
# so must the pods and Jobs their templates create: a Deployment whose pod template lacks them would
# be admitted and then see every Pod refused. Labels tie every resource to its app, its product and
# an owner to call.
package k8srequiredlabels

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

required_labels := object.get(input, ["parameters", "labels"], [])

# label_sets holds [where, labels] for the object and for each template nested in it.
label_sets contains ["metadata.labels", labels_at(obj, ["metadata", "labels"])]

label_sets contains ["spec.template.metadata.labels", labels_at(obj, ["spec", "template", "metadata", "labels"])] if {
	obj.kind in template_kinds
}

label_sets contains ["spec.jobTemplate.metadata.labels", labels_at(obj, ["spec", "jobTemplate", "metadata", "labels"])] if {
	obj.kind == "CronJob"
}

label_sets contains ["spec.jobTemplate.spec.template.metadata.labels", labels_at(obj, ["spec", "jobTemplate", "spec", "template", "metadata", "labels"])] if {
	obj.kind == "CronJob"
}

# labels_at is the label map at path, or {} when it is missing or not a map.
labels_at(o, path) := labels if {
	labels := object.get(o, path, {})
	is_object(labels)
} else := {}

violation contains {"msg": msg, "details": {"where": where, "missing_labels": missing}} if {
	some [where, labels] in label_sets
	missing := sort({l | some l in required_labels; object.get(labels, l, "") == ""})
	count(missing) > 0
	msg := sprintf("%s must set non-empty labels %v in %s", [obj_ref, missing, where])
}
