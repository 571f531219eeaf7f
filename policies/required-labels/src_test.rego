package k8srequiredlabels

# pod_input wraps a PodSpec into Gatekeeper's input for a Pod.
pod_input(spec) := {"review": {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": spec}}}

# deployment_input wraps a PodSpec into Gatekeeper's input for a Deployment.
deployment_input(spec) := {"review": {"object": {
	"kind": "Deployment",
	"metadata": {"name": "d"},
	"spec": {"template": {"spec": spec}},
}}}

# cronjob_input wraps a PodSpec into Gatekeeper's input for a CronJob.
cronjob_input(spec) := {"review": {"object": {
	"kind": "CronJob",
	"metadata": {"name": "cj"},
	"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}},
}}}

# msgs is the set of violation messages for the current input.
msgs := {v.msg | some v in violation}

required := {"parameters": {"labels": ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "owner"]}}

good := {"app.kubernetes.io/name": "uyoop-cal", "app.kubernetes.io/part-of": "uyoop", "owner": "platform-team"}

review(object) := object.union({"review": {"object": object}}, required)

test_labelled_deployment_and_template_are_allowed if {
	inp := review({"kind": "Deployment", "metadata": {"name": "d", "labels": good}, "spec": {"template": {"metadata": {"labels": good}}}})
	count(violation) == 0 with input as inp
}

test_labelled_service_is_allowed if {
	inp := review({"kind": "Service", "metadata": {"name": "s", "labels": good}})
	count(violation) == 0 with input as inp
}

test_missing_labels_are_listed if {
	inp := review({"kind": "Service", "metadata": {"name": "s", "labels": {"app.kubernetes.io/name": "x"}}})
	msgs == {`Service "s" must set non-empty labels ["app.kubernetes.io/part-of", "owner"] in metadata.labels`} with input as inp
}

test_no_labels_at_all_is_denied if {
	inp := review({"kind": "ConfigMap", "metadata": {"name": "c"}})
	count(violation) == 1 with input as inp
}

test_empty_value_counts_as_missing if {
	inp := review({"kind": "Service", "metadata": {"name": "s", "labels": object.union(good, {"owner": ""})}})
	msgs == {`Service "s" must set non-empty labels ["owner"] in metadata.labels`} with input as inp
}

test_pod_template_labels_are_required if {
	inp := review({"kind": "StatefulSet", "metadata": {"name": "st", "labels": good}, "spec": {"template": {"metadata": {"labels": {"owner": "x"}}}}})
	msgs == {`StatefulSet "st" must set non-empty labels ["app.kubernetes.io/name", "app.kubernetes.io/part-of"] in spec.template.metadata.labels`} with input as inp
}

test_cronjob_job_and_pod_templates_are_required if {
	inp := review({"kind": "CronJob", "metadata": {"name": "cj", "labels": good}, "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": good}}}}}})
	msgs == {`CronJob "cj" must set non-empty labels ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "owner"] in spec.jobTemplate.metadata.labels`} with input as inp
}

test_null_labels_are_missing_labels if {
	inp := review({"kind": "Service", "metadata": {"name": "s", "labels": null}})
	count(violation) == 1 with input as inp
}
