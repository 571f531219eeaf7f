package k8spspseccomp

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

test_pod_level_runtime_default_is_inherited if {
	inp := deployment_input({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "initContainers": [{"name": "init"}], "containers": [{"name": "app"}]})
	count(violation) == 0 with input as inp
}

test_container_level_localhost_is_allowed if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/app.json"}}}]})
	count(violation) == 0 with input as inp
}

test_unset_is_denied if {
	inp := pod_input({"containers": [{"name": "app"}]})
	msgs == {`container "app" of Pod "p" must run with securityContext.seccompProfile.type in ["Localhost", "RuntimeDefault"] (container or pod), not <unset>`} with input as inp
}

test_container_unconfined_overrides_pod if {
	inp := pod_input({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "app", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]})
	msgs == {`container "app" of Pod "p" must run with securityContext.seccompProfile.type in ["Localhost", "RuntimeDefault"] (container or pod), not Unconfined`} with input as inp
}

test_parameter_narrows_the_list if {
	inp := object.union(pod_input({"containers": [{"name": "app", "securityContext": {"seccompProfile": {"type": "Localhost"}}}]}), {"parameters": {"allowedProfiles": ["RuntimeDefault"]}})
	count(violation) == 1 with input as inp
}

test_init_ephemeral_and_cronjob_containers_are_checked if {
	inp := cronjob_input({
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "job", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
	count(violation) == 2 with input as inp
}
