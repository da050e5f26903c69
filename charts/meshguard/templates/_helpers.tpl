{{/* Names and labels shared by every template. */}}
{{- define "meshguard.name" -}}meshguard{{- end -}}

{{- define "meshguard.fullname" -}}
{{- if contains "meshguard" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-meshguard" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "meshguard.labels" -}}
app.kubernetes.io/name: meshguard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "meshguard.selectorLabels" -}}
app.kubernetes.io/name: meshguard
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "meshguard.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "meshguard.certSecret" -}}{{ include "meshguard.fullname" . }}-webhook-tls{{- end -}}

{{/* Where serve reads webhook.clientCA (--client-ca-file); empty when none is set. */}}
{{- define "meshguard.clientCAFile" -}}
{{- $ca := .Values.webhook.clientCA -}}
{{- $given := 0 -}}
{{- range (list $ca.bundle $ca.configMapName $ca.secretName) }}{{ if . }}{{ $given = add1 $given }}{{ end }}{{ end -}}
{{- if gt $given 1 -}}
{{- fail "webhook.clientCA: give one of bundle, configMapName or secretName" -}}
{{- else if $ca.bundle -}}
/etc/meshguard/client-ca.pem
{{- else if or $ca.configMapName $ca.secretName -}}
/client-ca/{{ $ca.key }}
{{- end -}}
{{- end -}}
