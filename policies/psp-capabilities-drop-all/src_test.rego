package k8spspcapabilities

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

drop_all := {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}

test_drop_all_is_allowed if {
	inp := deployment_input({"initContainers": [{"name": "init", "securityContext": drop_all}], "containers": [{"name": "app", "securityContext": drop_all}]})
	count(violation) == 0 with input as inp
}

test_adding_an_allowed_capability_is_allowed if {
	inp := object.union(pod_input({"containers": [{"name": "web", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}), {"parameters": {"allowedCapabilities": ["NET_BIND_SERVICE"]}})
	count(violation) == 0 with input as inp
}

test_no_drop_is_denied if {
	inp := pod_input({"containers": [{"name": "app"}]})
	msgs == {`container "app" of Pod "p" must drop ALL capabilities (securityContext.capabilities.drop: ["ALL"])`} with input as inp
}

test_dropping_only_some_is_denied if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"capabilities": {"drop": ["NET_RAW", "SYS_ADMIN"]}}}]})
	count(violation) == 1 with input as inp
}

test_adding_a_capability_outside_the_list_is_denied if {
	inp := object.union(pod_input({"containers": [{"name": "app", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "NET_BIND_SERVICE"]}}}]}), {"parameters": {"allowedCapabilities": ["NET_BIND_SERVICE"]}})
	msgs == {`container "app" of Pod "p" adds capability "SYS_ADMIN"; allowed: ["NET_BIND_SERVICE"]`} with input as inp
}

test_without_parameters_nothing_may_be_added if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]})
	count(violation) == 1 with input as inp
}

test_init_ephemeral_and_cronjob_containers_are_checked if {
	inp := cronjob_input({
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "job", "securityContext": drop_all}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]}}}],
	})
	msgs == {
		`initContainer "init" of CronJob "cj" must drop ALL capabilities (securityContext.capabilities.drop: ["ALL"])`,
		`ephemeralContainer "debug" of CronJob "cj" adds capability "SYS_PTRACE"; allowed: []`,
	} with input as inp
}
