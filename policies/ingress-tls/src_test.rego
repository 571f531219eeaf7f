package k8singresstls

# msgs is the set of violation messages for the current input.
msgs := {v.msg | some v in violation}

ingress(spec, annotations) := {"review": {"object": {
	"kind": "Ingress",
	"metadata": {"name": "web", "annotations": annotations},
	"spec": spec,
}}}

host_rule(host) := {"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix"}]}}

test_tls_for_every_host_is_allowed if {
	inp := ingress({"tls": [{"hosts": ["cal.uyoop.example"], "secretName": "cal-tls"}], "rules": [host_rule("cal.uyoop.example")]}, {})
	count(violation) == 0 with input as inp
}

test_wildcard_covers_one_label if {
	inp := ingress({"tls": [{"hosts": ["*.uyoop.example"], "secretName": "wild-tls"}], "rules": [host_rule("cal.uyoop.example"), host_rule("api.uyoop.example")]}, {})
	count(violation) == 0 with input as inp
}

test_wildcard_does_not_cover_two_labels_or_the_apex if {
	inp := ingress({"tls": [{"hosts": ["*.uyoop.example"], "secretName": "wild-tls"}], "rules": [host_rule("a.b.uyoop.example"), host_rule("uyoop.example")]}, {})
	msgs == {
		`Ingress "web" serves host "a.b.uyoop.example", which no spec.tls[].hosts entry covers`,
		`Ingress "web" serves host "uyoop.example", which no spec.tls[].hosts entry covers`,
	} with input as inp
}

test_no_tls_is_denied if {
	inp := ingress({"rules": [host_rule("cal.uyoop.example")]}, {})
	msgs == {`Ingress "web" must terminate TLS: spec.tls is empty`} with input as inp
}

test_uncovered_host_is_denied if {
	inp := ingress({"tls": [{"hosts": ["cal.uyoop.example"], "secretName": "cal-tls"}], "rules": [host_rule("cal.uyoop.example"), host_rule("admin.uyoop.example")]}, {})
	count(violation) == 1 with input as inp
}

test_missing_secret_name_is_denied if {
	inp := ingress({"tls": [{"hosts": ["cal.uyoop.example"]}], "rules": [host_rule("cal.uyoop.example")]}, {})
	msgs == {`Ingress "web" spec.tls[0] must name the certificate Secret (secretName)`} with input as inp
}

test_rule_without_host_is_denied if {
	inp := ingress({"tls": [{"hosts": ["cal.uyoop.example"], "secretName": "cal-tls"}], "rules": [{"http": {"paths": []}}]}, {})
	msgs == {`Ingress "web" spec.rules[0] has no host, so no certificate can match it`} with input as inp
}

test_disabled_redirect_is_denied if {
	inp := ingress({"tls": [{"hosts": ["cal.uyoop.example"], "secretName": "cal-tls"}], "rules": [host_rule("cal.uyoop.example")]}, {"nginx.ingress.kubernetes.io/ssl-redirect": "False"})
	msgs == {`Ingress "web" must not disable the HTTPS redirect (nginx.ingress.kubernetes.io/ssl-redirect: "false")`} with input as inp
}

test_other_kinds_are_ignored if {
	count(violation) == 0 with input as {"review": {"object": {"kind": "Service", "metadata": {"name": "s"}}}}
}
