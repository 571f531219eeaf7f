package k8spspnonroot

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

test_container_level_non_root_is_allowed if {
	inp := pod_input({"containers": [{"name": "app", "securityContext": {"runAsNonRoot": true, "runAsUser": 1000}}]})
	count(violation) == 0 with input as inp
}

test_pod_level_non_root_is_inherited if {
	inp := deployment_input({
		"securityContext": {"runAsNonRoot": true, "runAsUser": 1000},
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "app"}],
	})
	count(violation) == 0 with input as inp
}

test_missing_run_as_non_root_is_denied if {
	inp := pod_input({"containers": [{"name": "app"}]})
	msgs == {`container "app" of Pod "p" must set securityContext.runAsNonRoot: true (on the container or the pod)`} with input as inp
}

test_container_false_overrides_pod_true if {
	inp := deployment_input({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "app", "securityContext": {"runAsNonRoot": false}}],
	})
	count(violation) == 1 with input as inp
}

test_uid_zero_is_denied_even_with_run_as_non_root if {
	inp := pod_input({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "app", "securityContext": {"runAsUser": 0}}],
	})
	msgs == {`container "app" of Pod "p" must not run as UID 0 (securityContext.runAsUser)`} with input as inp
}

test_pod_level_uid_zero_is_denied if {
	inp := pod_input({"securityContext": {"runAsNonRoot": true, "runAsUser": 0}, "containers": [{"name": "app"}]})
	count(violation) == 1 with input as inp
}

test_init_and_ephemeral_containers_are_checked if {
	inp := pod_input({
		"securityContext": {"runAsNonRoot": true},
		"initContainers": [{"name": "init", "securityContext": {"runAsNonRoot": false}}],
		"containers": [{"name": "app"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"runAsUser": 0}}],
	})
	msgs == {
		`initContainer "init" of Pod "p" must set securityContext.runAsNonRoot: true (on the container or the pod)`,
		`ephemeralContainer "debug" of Pod "p" must not run as UID 0 (securityContext.runAsUser)`,
	} with input as inp
}

test_cronjob_pod_template_is_checked if {
	inp := cronjob_input({"containers": [{"name": "backup"}]})
	count(violation) == 1 with input as inp
}

test_objects_without_pods_are_ignored if {
	count(violation) == 0 with input as {"review": {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {}}}}
}
