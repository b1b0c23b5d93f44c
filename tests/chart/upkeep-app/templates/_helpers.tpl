{{- define "upkeep-app.name" -}}
{{- printf "%s-%s" .Values.upkeep.plan .Values.upkeep.environment | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "upkeep-app.labels" -}}
app.kubernetes.io/name: {{ .Values.upkeep.plan }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
upkeep.dev/environment: {{ .Values.upkeep.environment | quote }}
{{- end -}}
