{{/* Chart name, cut to 63 characters (DNS label). */}}
{{- define "wheelhouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or the release name when it already contains the chart name. */}}
{{- define "wheelhouse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Cluster-scoped objects are shared by every release: their names carry the namespace too. */}}
{{- define "wheelhouse.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "wheelhouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wheelhouse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wheelhouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wheelhouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wheelhouse.labels" -}}
helm.sh/chart: {{ include "wheelhouse.chart" . }}
{{ include "wheelhouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wheelhouse
{{- end }}

{{- define "wheelhouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wheelhouse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "wheelhouse.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "wheelhouse.leaseName" -}}
{{- default (include "wheelhouse.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
The config file: values.config with the policy section and, with leader election on, the Lease to
use. dataDir and http are left out: the chart sets them through the environment (env wins).
*/}}
{{- define "wheelhouse.configFile" -}}
{{- $config := include "wheelhouse.config" . | fromYaml -}}
{{- if .Values.policy }}
{{- $_ := set $config "policy" .Values.policy }}
{{- end }}
{{- if .Values.leaderElection.enabled }}
{{- $ha := dict "leaderElection" (dict "enabled" true "leaseName" (include "wheelhouse.leaseName" .) "namespace" .Release.Namespace) }}
{{- $_ := set $config "ha" $ha }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/*
values.config with the chart's defaults: dataDir left out (WH_DATA_DIR), and unmapped Slack users
acting as a fixed, grantable name unless identity.unmapped says otherwise.
*/}}
{{- define "wheelhouse.config" -}}
{{- $config := omit (deepCopy .Values.config) "dataDir" -}}
{{- $identity := get $config "identity" | default dict -}}
{{- if not (hasKey $identity "unmapped") }}
{{- $_ := set $identity "unmapped" (dict "kubeUser" "wheelhouse:unmapped" "groups" (list "wheelhouse:viewers")) }}
{{- end }}
{{- $_ := set $config "identity" $identity }}
{{- toYaml $config }}
{{- end }}

{{/*
Who the service account may impersonate: everyone config.identity names, plus rbac.impersonation.
RBAC grants impersonation by exact name, so a "{id}" placeholder cannot be granted: refuse it.
Output: a YAML mapping {users: [...], groups: [...]}, sorted and de-duplicated.
*/}}
{{- define "wheelhouse.impersonation" -}}
{{- $users := list -}}
{{- $groups := list -}}
{{- $identity := (include "wheelhouse.config" . | fromYaml).identity -}}
{{- range ($identity.users | default list) }}
{{- $users = append $users .kubeUser }}
{{- range (.groups | default list) }}{{ $groups = append $groups . }}{{ end }}
{{- end }}
{{- $unmapped := $identity.unmapped | default "deny" -}}
{{- if kindIs "map" $unmapped }}
{{- $users = append $users $unmapped.kubeUser }}
{{- range ($unmapped.groups | default list) }}{{ $groups = append $groups . }}{{ end }}
{{- end }}
{{- $users = concat $users .Values.rbac.impersonation.users }}
{{- $groups = concat $groups .Values.rbac.impersonation.groups }}
{{- range $users }}
{{- if contains "{id}" . }}
{{- fail (printf "config.identity: the user name %q has an {id} placeholder, which RBAC cannot grant impersonation of (it grants by exact name). Use a fixed name such as wheelhouse:unmapped, or unmapped: deny." .) }}
{{- end }}
{{- end }}
users: {{ $users | uniq | sortAlpha | toJson }}
groups: {{ $groups | uniq | sortAlpha | toJson }}
{{- end }}
