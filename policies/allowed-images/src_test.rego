package k8sallowedimages

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

params := {"parameters": {"registries": ["registry.uyoop.local/", "harbor.uyoop.local:8443/mirror"]}}

with_image(image) := object.union(pod_input({"containers": [{"name": "app", "image": image}]}), params)

test_tagged_image_from_allowed_registry_is_allowed if {
	inp := with_image("registry.uyoop.local/uyoop/uyoop-cal:0.1.0")
	count(violation) == 0 with input as inp
}

test_digest_is_allowed if {
	inp := with_image("registry.uyoop.local/uyoop/uyoop-cal@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b825dc642cb6eb9a060e54bf")
	count(violation) == 0 with input as inp
}

test_prefix_without_slash_and_registry_port_are_handled if {
	inp := with_image("harbor.uyoop.local:8443/mirror/library/redis:7.4.2")
	count(violation) == 0 with input as inp
}

test_latest_is_denied if {
	inp := with_image("registry.uyoop.local/uyoop/uyoop-cal:latest")
	msgs == {`container "app" of Pod "p" uses image "registry.uyoop.local/uyoop/uyoop-cal:latest" with the floating tag latest: pin a version or a digest`} with input as inp
}

test_latest_is_denied_even_with_a_digest if {
	inp := with_image("registry.uyoop.local/uyoop/uyoop-cal:latest@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b825dc642cb6eb9a060e54bf")
	count(violation) == 1 with input as inp
}

test_untagged_is_denied if {
	inp := with_image("registry.uyoop.local/uyoop/uyoop-cal")
	msgs == {`container "app" of Pod "p" uses image "registry.uyoop.local/uyoop/uyoop-cal" without a tag (implicitly latest): pin a version or a digest`} with input as inp
}

test_registry_port_is_not_a_tag if {
	inp := with_image("harbor.uyoop.local:8443/mirror/redis")
	count(violation) == 1 with input as inp
}

test_other_registry_is_denied if {
	inp := with_image("docker.io/library/nginx:1.27.3")
	msgs == {`container "app" of Pod "p" uses image "docker.io/library/nginx:1.27.3" from outside the allowed registries ["harbor.uyoop.local:8443/mirror/", "registry.uyoop.local/"]`} with input as inp
}

test_look_alike_registry_is_denied if {
	inp := with_image("registry.uyoop.local.evil.example/uyoop/uyoop-cal:0.1.0")
	count(violation) == 1 with input as inp
}

test_short_docker_hub_name_is_denied_twice if {
	inp := with_image("nginx")
	count(violation) == 2 with input as inp
}

test_without_parameters_every_registry_is_denied if {
	inp := pod_input({"containers": [{"name": "app", "image": "registry.uyoop.local/uyoop/uyoop-cal:0.1.0"}]})
	count(violation) == 1 with input as inp
}

test_init_ephemeral_and_cronjob_containers_are_checked if {
	inp := object.union(
		cronjob_input({
			"initContainers": [{"name": "init", "image": "registry.uyoop.local/tools/busybox"}],
			"containers": [{"name": "job", "image": "registry.uyoop.local/uyoop/pg-backup:16.4"}],
			"ephemeralContainers": [{"name": "debug", "image": "registry.uyoop.local/tools/busybox:latest"}],
		}),
		params,
	)
	count(violation) == 2 with input as inp
}
