//! `Producers`: workers, billing, health monitors and webhook senders report
//! what happened, with the master key. Task reports on a finished task
//! return it unchanged, so producers may retry any report.

use pulse_proto::tasks::v1::{self as proto, producers_server::Producers};
use tonic::{Request, Response};

use super::{parse, Reply, TasksService};
use crate::domain::{
    ConfigurationChange, NewAlert, NewSpend, Progress, ProviderHealth, RateLimit, Report,
    WebhookDelivery, WebhookReport,
};

#[tonic::async_trait]
impl Producers for TasksService {
    async fn report_task_started(
        &self,
        request: Request<proto::ReportTaskStartedRequest>,
    ) -> Reply<proto::Task> {
        self.require_master_key(&request)?;
        let task_id = parse::id("taskId", &request.get_ref().task_id)?;
        let task = self.store.report_task(task_id, Report::Started).await?;
        Ok(Response::new((&task).into()))
    }

    async fn report_task_progress(
        &self,
        request: Request<proto::ReportTaskProgressRequest>,
    ) -> Reply<proto::Task> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let task_id = parse::id("taskId", &request.task_id)?;
        let progress = Progress::new(
            request.percentage,
            request.status.as_deref(),
            request.message.as_deref(),
        )?;
        let task = self
            .store
            .report_task(task_id, Report::Progress(progress))
            .await?;
        Ok(Response::new((&task).into()))
    }

    async fn report_task_completed(
        &self,
        request: Request<proto::ReportTaskCompletedRequest>,
    ) -> Reply<proto::Task> {
        self.require_master_key(&request)?;
        let task_id = parse::id("taskId", &request.get_ref().task_id)?;
        let report = Report::completed(&request.get_ref().result)?;
        let task = self.store.report_task(task_id, report).await?;
        Ok(Response::new((&task).into()))
    }

    async fn report_task_failed(
        &self,
        request: Request<proto::ReportTaskFailedRequest>,
    ) -> Reply<proto::Task> {
        self.require_master_key(&request)?;
        let task_id = parse::id("taskId", &request.get_ref().task_id)?;
        let report = Report::failed(&request.get_ref().error)?;
        let task = self.store.report_task(task_id, report).await?;
        Ok(Response::new((&task).into()))
    }

    async fn record_spend(
        &self,
        request: Request<proto::RecordSpendRequest>,
    ) -> Reply<proto::RecordSpendResponse> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let virtual_key_id = parse::id("virtualKeyId", &request.virtual_key_id)?;
        let spend = NewSpend::new(
            virtual_key_id,
            request.amount,
            request.description.as_deref(),
        )?;
        let spend_id = self.store.record_spend(spend).await?;
        Ok(Response::new(proto::RecordSpendResponse {
            spend_id: spend_id.to_string(),
        }))
    }

    async fn report_provider_health(
        &self,
        request: Request<proto::ReportProviderHealthRequest>,
    ) -> Reply<proto::ReportProviderHealthResponse> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let health = ProviderHealth::new(
            &request.provider,
            &request.status,
            request.message.as_deref(),
        )?;
        let changed = self.store.report_provider_health(health).await?;
        Ok(Response::new(proto::ReportProviderHealthResponse {
            changed,
        }))
    }

    async fn report_rate_limit(
        &self,
        request: Request<proto::ReportRateLimitRequest>,
    ) -> Reply<proto::ReportRateLimitResponse> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let limit = RateLimit::new(
            &request.provider,
            &request.limit_type,
            request.usage_percent,
            request.message.as_deref(),
        )?;
        self.store.report_rate_limit(limit).await?;
        Ok(Response::new(proto::ReportRateLimitResponse {}))
    }

    async fn report_webhook_delivery(
        &self,
        request: Request<proto::ReportWebhookDeliveryRequest>,
    ) -> Reply<proto::ReportWebhookDeliveryResponse> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let virtual_key_id = parse::id("virtualKeyId", &request.virtual_key_id)?;
        let task_id = request
            .task_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())
            .map(|id| parse::id("taskId", id))
            .transpose()?;
        let delivery = WebhookDelivery::new(
            virtual_key_id,
            WebhookReport {
                webhook_url: &request.webhook_url,
                task_id,
                status_code: request.status_code,
                attempt: request.attempt,
                delivered: request.delivered,
                error: request.error.as_deref(),
                will_retry: request.will_retry,
            },
        )?;
        self.store.report_webhook(delivery).await?;
        Ok(Response::new(proto::ReportWebhookDeliveryResponse {}))
    }

    async fn raise_system_alert(
        &self,
        request: Request<proto::RaiseSystemAlertRequest>,
    ) -> Reply<proto::RaiseSystemAlertResponse> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let alert = NewAlert::new(&request.severity, &request.component, &request.message)?;
        let alert_id = self.store.raise_alert(alert).await?;
        Ok(Response::new(proto::RaiseSystemAlertResponse {
            alert_id: alert_id.to_string(),
        }))
    }

    async fn report_configuration_change(
        &self,
        request: Request<proto::ReportConfigurationChangeRequest>,
    ) -> Reply<proto::ReportConfigurationChangeResponse> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let change = ConfigurationChange::new(
            &request.setting,
            request.old_value.as_deref(),
            request.new_value.as_deref(),
            &request.changed_by,
        )?;
        self.store.report_configuration_change(change).await?;
        Ok(Response::new(proto::ReportConfigurationChangeResponse {}))
    }
}
