# Ingresses must terminate TLS: spec.tls present, every rule's host covered by a tls entry (a
# wildcard covers one label), every tls entry naming the Secret that cert-manager fills, and the
# ingress-nginx HTTPS redirect left on.
package k8singresstls

obj := input.review.object

obj_ref := sprintf("%s %q", [obj.kind, object.get(obj, ["metadata", "name"], "<unnamed>")])

tls := object.get(obj, ["spec", "tls"], [])

redirect_annotations := {"nginx.ingress.kubernetes.io/ssl-redirect", "nginx.ingress.kubernetes.io/force-ssl-redirect"}

# covers(pattern, host): pattern is host itself, or "*.<domain>" and host is one label under domain.
covers(pattern, host) if pattern == host

covers(pattern, host) if {
	startswith(pattern, "*.")
	domain := trim_prefix(pattern, "*")
	endswith(host, domain)
	label := trim_suffix(host, domain)
	label != ""
	not contains(label, ".")
}

covered(host) if {
	some entry in tls
	some pattern in object.get(entry, "hosts", [])
	covers(pattern, host)
}

violation contains {"msg": msg} if {
	obj.kind == "Ingress"
	count(tls) == 0
	msg := sprintf("%s must terminate TLS: spec.tls is empty", [obj_ref])
}

violation contains {"msg": msg, "details": {"host": host}} if {
	obj.kind == "Ingress"
	count(tls) > 0
	some rule in object.get(obj, ["spec", "rules"], [])
	host := object.get(rule, "host", "")
	host != ""
	not covered(host)
	msg := sprintf("%s serves host %q, which no spec.tls[].hosts entry covers", [obj_ref, host])
}

violation contains {"msg": msg} if {
	obj.kind == "Ingress"
	some i, rule in object.get(obj, ["spec", "rules"], [])
	object.get(rule, "host", "") == ""
	msg := sprintf("%s spec.rules[%d] has no host, so no certificate can match it", [obj_ref, i])
}

violation contains {"msg": msg} if {
	obj.kind == "Ingress"
	some i, entry in tls
	object.get(entry, "secretName", "") == ""
	msg := sprintf("%s spec.tls[%d] must name the certificate Secret (secretName)", [obj_ref, i])
}

violation contains {"msg": msg} if {
	obj.kind == "Ingress"
	some annotation in redirect_annotations
	lower(object.get(obj, ["metadata", "annotations", annotation], "")) == "false"
	msg := sprintf("%s must not disable the HTTPS redirect (%s: \"false\")", [obj_ref, annotation])
}
