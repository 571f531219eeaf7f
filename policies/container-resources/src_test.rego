package k8scontainerresources

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

full := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}

test_requests_and_limits_are_allowed if {
	inp := deployment_input({"initContainers": [{"name": "init", "resources": full}], "containers": [{"name": "app", "resources": full}]})
	count(violation) == 0 with input as inp
}

test_missing_resources_are_denied_one_message_each if {
	inp := pod_input({"containers": [{"name": "app"}]})
	msgs == {
		`container "app" of Pod "p" must set resources.requests.cpu`,
		`container "app" of Pod "p" must set resources.requests.memory`,
		`container "app" of Pod "p" must set resources.limits.cpu`,
		`container "app" of Pod "p" must set resources.limits.memory`,
	} with input as inp
}

test_a_single_missing_limit_is_denied if {
	inp := pod_input({"containers": [{"name": "app", "resources": {"requests": full.requests, "limits": {"cpu": "1"}}}]})
	msgs == {`container "app" of Pod "p" must set resources.limits.memory`} with input as inp
}

test_parameters_choose_what_is_required if {
	inp := object.union(
		pod_input({"containers": [{"name": "app", "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": "64Mi"}}}]}),
		{"parameters": {"requests": ["memory"], "limits": ["memory"]}},
	)
	count(violation) == 0 with input as inp
}

test_init_containers_are_checked_and_ephemeral_ones_exempt if {
	inp := cronjob_input({
		"initContainers": [{"name": "init", "resources": {"requests": full.requests}}],
		"containers": [{"name": "job", "resources": full}],
		"ephemeralContainers": [{"name": "debug"}],
	})
	msgs == {
		`initContainer "init" of CronJob "cj" must set resources.limits.cpu`,
		`initContainer "init" of CronJob "cj" must set resources.limits.memory`,
	} with input as inp
}
