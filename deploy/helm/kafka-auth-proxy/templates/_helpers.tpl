{{- define "kafka-auth-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kafka-auth-proxy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "kafka-auth-proxy.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "kafka-auth-proxy.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "kafka-auth-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka-auth-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kafka-auth-proxy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "kafka-auth-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kafka-auth-proxy.secretName" -}}
{{- default (include "kafka-auth-proxy.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
The Kafka ports of every listener, as a YAML list of {name, port}: the bootstrap port, then one
port per broker node (brokerPorts.base + each of brokerNodeIds, or the ports of brokerPorts.map).
*/}}
{{- define "kafka-auth-proxy.kafkaPorts" -}}
{{- range $i, $l := .Values.config.listeners }}
- name: {{ printf "l%d-bootstrap" $i }}
  port: {{ $l.port }}
{{- with $l.brokerPorts }}
{{- if hasKey . "base" }}
{{- range $id := $.Values.brokerNodeIds }}
- name: {{ printf "l%d-node-%d" $i (int $id) }}
  port: {{ add $l.brokerPorts.base $id }}
{{- end }}
{{- else }}
{{- range $id, $port := .map }}
- name: {{ printf "l%d-node-%s" $i $id }}
  port: {{ $port }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
