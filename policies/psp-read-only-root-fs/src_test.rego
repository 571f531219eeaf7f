package k8spspreadonlyrootfilesystem

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

test_read_only_containers_are_allowed if {
	inp := deployment_input({
		"initContainers": [{"name": "init", "securityContext": {"readOnlyRootFilesystem": true}}],
		"containers": [{"name": "app", "securityContext": {"readOnlyRootFilesystem": true}}],
	})
	count(violation) == 0 with input as inp
}

test_missing_setting_is_denied if {
	inp := pod_input({"containers": [{"name": "app"}]})
	msgs == {`container "app" of Pod "p" must set securityContext.readOnlyRootFilesystem: true`} with input as inp
}

test_false_is_denied if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"readOnlyRootFilesystem": false}}]})
	count(violation) == 1 with input as inp
}

test_pod_level_setting_does_not_exist if {
	# readOnlyRootFilesystem is a container-only field: a pod-level value must not satisfy the policy.
	inp := pod_input({"securityContext": {"readOnlyRootFilesystem": true}, "containers": [{"name": "app"}]})
	count(violation) == 1 with input as inp
}

test_init_ephemeral_and_cronjob_containers_are_checked if {
	inp := cronjob_input({
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "job", "securityContext": {"readOnlyRootFilesystem": true}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
	msgs == {
		`initContainer "init" of CronJob "cj" must set securityContext.readOnlyRootFilesystem: true`,
		`ephemeralContainer "debug" of CronJob "cj" must set securityContext.readOnlyRootFilesystem: true`,
	} with input as inp
}
