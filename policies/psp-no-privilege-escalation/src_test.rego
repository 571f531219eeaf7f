package k8spspnoprivilegeescalation

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

test_explicit_false_is_allowed if {
	inp := deployment_input({"containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": false}}]})
	count(violation) == 0 with input as inp
}

test_unset_is_denied_because_the_default_allows_escalation if {
	inp := pod_input({"containers": [{"name": "app"}]})
	msgs == {`container "app" of Pod "p" must set securityContext.allowPrivilegeEscalation: false`} with input as inp
}

test_true_is_denied if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": true}}]})
	count(violation) == 1 with input as inp
}

test_privileged_is_denied if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": false, "privileged": true}}]})
	msgs == {`container "app" of Pod "p" must not be privileged (securityContext.privileged)`} with input as inp
}

test_init_ephemeral_and_cronjob_containers_are_checked if {
	inp := cronjob_input({
		"initContainers": [{"name": "init", "securityContext": {"allowPrivilegeEscalation": true}}],
		"containers": [{"name": "job", "securityContext": {"allowPrivilegeEscalation": false}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"allowPrivilegeEscalation": false, "privileged": true}}],
	})
	msgs == {
		`initContainer "init" of CronJob "cj" must set securityContext.allowPrivilegeEscalation: false`,
		`ephemeralContainer "debug" of CronJob "cj" must not be privileged (securityContext.privileged)`,
	} with input as inp
}
