{{/* The objects' base name: the release name when it holds the chart's name (install it as bmc-operator). */}}
{{- define "bmc-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The pods' selector, as in the kustomize installs. */}}
{{- define "bmc-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end -}}

{{- define "bmc-operator.labels" -}}
{{ include "bmc-operator.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* metal3 mode always talks to BMO's Ironic; standalone with provisioner: ironic too. */}}
{{- define "bmc-operator.usesIronic" -}}
{{- if or (eq .Values.mode "metal3") (eq .Values.provisioner "ironic") -}}true{{- end -}}
{{- end -}}

{{- define "bmc-operator.leaderElectionId" -}}
{{- .Values.leaderElection.id | default (ternary "bmc-operator-metal3" "bmc-operator" (eq .Values.mode "metal3")) -}}
{{- end -}}

{{- define "bmc-operator.clusterRoleName" -}}
{{- include "bmc-operator.fullname" . }}{{ if eq .Values.mode "metal3" }}-metal3{{ end -}}
{{- end -}}
