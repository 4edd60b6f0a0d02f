//! `@kubernetes/[NAMESPACE/]POD[/CONTAINER]`: a running pod reached with this
//! machine's `kubectl exec` (pyinfra has no such connector). Commands run as
//! `kubectl exec -i POD -- sh -c '...'`; files are streamed through the same exec and
//! renamed into place, so the image needs only `sh`, `cat` and `mv` (no `tar`, which
//! `kubectl cp` would need). The pod is left as it was.
//!
//! Data: `kubernetes_namespace`, `kubernetes_pod`, `kubernetes_container` (default:
//! from the name), `kubernetes_context` (`kubectl --context`) and
//! `kubernetes_kubeconfig` (`kubectl --kubeconfig`).

use std::path::Path;

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};
use serde_json::{Map, Value};

use crate::container::{self, Helpers, Runner, Target, data_string};
use crate::process::LocalRunner;
use crate::ssh::OptionsError;

/// A container of a pod, through `kubectl exec`.
#[derive(Debug)]
pub struct KubernetesConnector {
    name: String,
    namespace: Option<String>,
    pod: String,
    container: Option<String>,
    context: Option<String>,
    kubeconfig: Option<String>,
    helpers: Helpers,
}

impl KubernetesConnector {
    /// `@kubernetes/POD`, `@kubernetes/NAMESPACE/POD` or
    /// `@kubernetes/NAMESPACE/POD/CONTAINER`, with the `kubernetes_*` data on top.
    pub fn new(name: &str, argument: &str, data: &Map<String, Value>) -> Result<Self, OptionsError> {
        let parts: Vec<&str> = argument.split('/').collect();
        let (namespace, pod, container) = match parts.as_slice() {
            [pod] => (None, *pod, None),
            [namespace, pod] => (Some(*namespace), *pod, None),
            [namespace, pod, container, ..] => (Some(*namespace), *pod, Some(*container)),
            [] => (None, "", None),
        };
        let owned = |text: Option<&str>| text.filter(|text| !text.is_empty()).map(str::to_owned);
        Ok(Self {
            name: name.to_owned(),
            namespace: data_string(data, "kubernetes_namespace")?.or_else(|| owned(namespace)),
            pod: data_string(data, "kubernetes_pod")?.unwrap_or_else(|| pod.to_owned()),
            container: data_string(data, "kubernetes_container")?.or_else(|| owned(container)),
            context: data_string(data, "kubernetes_context")?,
            kubeconfig: data_string(data, "kubernetes_kubeconfig")?,
            helpers: Helpers::default(),
        })
    }

    /// `kubectl` with the options that choose the cluster and namespace.
    fn kubectl(&self) -> StringCommand {
        let mut command = StringCommand::raw("kubectl");
        if let Some(kubeconfig) = &self.kubeconfig {
            command = command.text("--kubeconfig").quoted(kubeconfig.clone());
        }
        if let Some(context) = &self.context {
            command = command.text("--context").quoted(context.clone());
        }
        if let Some(namespace) = &self.namespace {
            command = command.text("--namespace").quoted(namespace.clone());
        }
        command
    }
}

impl Target for KubernetesConnector {
    fn host(&self) -> &str {
        &self.name
    }

    fn runner(&self) -> &dyn Runner {
        &LocalRunner
    }

    fn entry(&self, pty: bool, input: bool) -> Result<StringCommand, ConnectorError> {
        let flags = match (pty, input) {
            (true, false) => "-t",
            (true, true) => "-it",
            (false, _) => "-i",
        };
        let mut command = self.kubectl().text("exec").text(flags).quoted(self.pod.clone());
        if let Some(container) = &self.container {
            command = command.text("--container").quoted(container.clone());
        }
        Ok(command.text("--"))
    }

    fn helpers(&self) -> &Helpers {
        &self.helpers
    }
}

#[async_trait]
impl Connector for KubernetesConnector {
    async fn connect(&self) -> Result<(), ConnectorError> {
        if self.pod.is_empty() {
            return Err(ConnectorError::Connect(format!(
                "`{}`: no pod given (`@kubernetes/[NAMESPACE/]POD[/CONTAINER]`)",
                self.name
            )));
        }
        container::check_entry(self, "kubectl", &format!("kubectl exec into pod `{}`", self.pod)).await
    }

    async fn run_shell_command(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        container::run_shell_command(self, command, arguments).await
    }

    async fn put_file(&self, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        container::put_file(self, source, dest, arguments).await
    }

    async fn get_file(&self, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        container::get_file(self, src, dest, arguments).await
    }

    async fn disconnect(&self) -> Result<(), ConnectorError> {
        container::remove_helpers(self).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, data: &str) -> String {
        let data: Map<String, Value> = serde_json::from_str(data).unwrap_or_default();
        let argument = name.strip_prefix("@kubernetes/").unwrap_or_default();
        KubernetesConnector::new(name, argument, &data)
            .ok()
            .and_then(|connector| connector.entry(false, true).ok())
            .map(|entry| entry.raw_value())
            .unwrap_or_default()
    }

    #[test]
    fn name_gives_namespace_pod_and_container() {
        assert_eq!(entry("@kubernetes/web-0", "{}"), "kubectl exec -i web-0 --");
        assert_eq!(entry("@kubernetes/shop/web-0", "{}"), "kubectl --namespace shop exec -i web-0 --");
        assert_eq!(
            entry("@kubernetes/shop/web-0/nginx", "{}"),
            "kubectl --namespace shop exec -i web-0 --container nginx --"
        );
    }

    #[test]
    fn data_overrides_the_name() {
        assert_eq!(
            entry("@kubernetes/web-0", r#"{"kubernetes_namespace": "prod", "kubernetes_context": "kind-a"}"#),
            "kubectl --context kind-a --namespace prod exec -i web-0 --"
        );
    }
}
