{{/*
Naming, labels, image and the pieces shared by the Deployment and the migration Job.
Nothing here names a namespace: every namespaced object takes .Release.Namespace.
*/}}

{{/* Chart name, overridable. */}}
{{- define "uyoop-cal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: the release name alone when it already contains the chart name
(`helm install uyoop-cal .` gives `uyoop-cal`, not `uyoop-cal-uyoop-cal`).
*/}}
{{- define "uyoop-cal.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* `helm.sh/chart` label value. */}}
{{- define "uyoop-cal.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The image tag actually deployed: image.tag, else the chart's appVersion; never `latest`. */}}
{{- define "uyoop-cal.imageTag" -}}
{{- $tag := toString (default .Chart.AppVersion .Values.image.tag) -}}
{{- if or (eq $tag "latest") (eq $tag "") -}}
{{- fail "image.tag resolves to `latest` or nothing: pin a version (and preferably image.digest)" -}}
{{- end -}}
{{- $tag -}}
{{- end -}}

{{/* registry/repository:tag[@digest] */}}
{{- define "uyoop-cal.image" -}}
{{- $ref := printf "%s/%s:%s" .Values.image.registry .Values.image.repository (include "uyoop-cal.imageTag" .) -}}
{{- if .Values.image.digest -}}
{{- $ref = printf "%s@%s" $ref .Values.image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* Pull policy: explicit, else IfNotPresent for a digest-pinned image and Always for a tag. */}}
{{- define "uyoop-cal.imagePullPolicy" -}}
{{- if .Values.image.pullPolicy -}}
{{- .Values.image.pullPolicy -}}
{{- else if .Values.image.digest -}}
IfNotPresent
{{- else -}}
Always
{{- end -}}
{{- end -}}

{{/* Selector labels: immutable on a Deployment, so only name and instance (plus the component by the caller). */}}
{{- define "uyoop-cal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "uyoop-cal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Standard labels on every object and pod. `app.kubernetes.io/name`, `app.kubernetes.io/part-of` and
`owner` are demanded by the Gatekeeper required-labels policy.
*/}}
{{- define "uyoop-cal.labels" -}}
helm.sh/chart: {{ include "uyoop-cal.chart" . }}
{{ include "uyoop-cal.selectorLabels" . }}
app.kubernetes.io/version: {{ include "uyoop-cal.imageTag" . | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: uyoop
owner: {{ .Values.owner | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
`  annotations:` block for an object's metadata (commonAnnotations, then .extra which wins), or nothing.
Call as `{{- include "uyoop-cal.annotations" (dict "ctx" $ "extra" $someDict) }}` right after the labels.
*/}}
{{- define "uyoop-cal.annotations" -}}
{{- $all := merge (deepCopy (default dict .extra)) (deepCopy (default dict .ctx.Values.commonAnnotations)) -}}
{{- if $all }}
  annotations:
    {{- toYaml $all | nindent 4 }}
{{- end }}
{{- end -}}

{{/* Name of the ServiceAccount the app pods run as. */}}
{{- define "uyoop-cal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "uyoop-cal.fullname" .) .Values.serviceAccount.name -}}
{{- else if .Values.serviceAccount.name -}}
{{- .Values.serviceAccount.name -}}
{{- else -}}
{{- fail "serviceAccount.name is required when serviceAccount.create is false (the `default` account is never used)" -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security context: Pod Security Standards "restricted". */}}
{{- define "uyoop-cal.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context: fixed, not overridable from values on purpose. */}}
{{- define "uyoop-cal.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* `imagePullSecrets:` from a list of names or of `{name: ...}` objects (both shapes are common), or nothing. */}}
{{- define "uyoop-cal.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  {{- if kindIs "string" . }}
  - name: {{ . | quote }}
  {{- else }}
  - name: {{ .name | quote }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Secret environment: connection URLs and extra secret settings, all from the existing Secret. */}}
{{- define "uyoop-cal.secretEnv" -}}
- name: UYOOP_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret | quote }}
      key: {{ .Values.secrets.keys.databaseUrl | quote }}
{{- end -}}

{{/* Volume and mount of the PostgreSQL TLS material (callers check database.tlsSecret). */}}
{{- define "uyoop-cal.dbTlsVolume" -}}
- name: db-tls
  secret:
    secretName: {{ .Values.database.tlsSecret | quote }}
    defaultMode: 0440
{{- end -}}
{{- define "uyoop-cal.dbTlsMount" -}}
- name: db-tls
  mountPath: /etc/uyoop/db-tls
  readOnly: true
{{- end -}}

{{/* NetworkPolicy egress rules shared by the app and the migration hook: DNS and PostgreSQL. */}}
{{- define "uyoop-cal.egressDnsRule" -}}
- to:
    {{- toYaml .Values.networkPolicy.egress.dns | nindent 4 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}
{{- define "uyoop-cal.egressPostgresqlRule" -}}
- to:
    {{- toYaml .Values.networkPolicy.egress.postgresql.to | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ .Values.networkPolicy.egress.postgresql.port }}
{{- end -}}
