//! Company details (flow 12, seed 003): the organization's name, legal
//! name, address, phone, VAT and registration numbers, on their own form,
//! saved apart from anyone's profile, by members holding `company.edit`.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{CompanyDetails, CompanyInput, OrganizationId};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

/// May edit the organization's company details.
pub const COMPANY_EDIT: &str = "company.edit";

/// A change of company details: `None` keeps the field as it is; an empty
/// text clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyPatch {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
}

fn company_json(details: &CompanyDetails) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("name".into(), json!(details.name));
    map.insert("legal_name".into(), json!(details.legal_name));
    map.insert("address".into(), json!(details.address));
    map.insert("phone".into(), json!(details.phone));
    map.insert("vat_number".into(), json!(details.vat_number));
    map.insert(
        "registration_number".into(),
        json!(details.registration_number),
    );
    map
}

impl Services {
    /// The organization's company details (needs `company.edit`).
    pub async fn company(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
    ) -> Result<CompanyDetails, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[COMPANY_EDIT])
            .await?;
        tx.company_details(organization)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Applies `patch` to the company details (needs `company.edit`): every
    /// invalid field is reported at once and nothing is saved; a change is
    /// audited (`organization.company_updated`) with the changed fields
    /// before and after.
    pub async fn update_company(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        patch: &CompanyPatch,
        context: &RequestContext,
    ) -> Result<CompanyDetails, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[COMPANY_EDIT])
            .await?;
        let before = tx
            .company_details(organization)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let mut input = CompanyInput::from(&before);
        let fields = [
            (&mut input.name, &patch.name),
            (&mut input.legal_name, &patch.legal_name),
            (&mut input.address, &patch.address),
            (&mut input.phone, &patch.phone),
            (&mut input.vat_number, &patch.vat_number),
            (&mut input.registration_number, &patch.registration_number),
        ];
        for (field, change) in fields {
            if let Some(value) = change {
                field.clone_from(value);
            }
        }
        let after = input.parse().map_err(ServiceError::Invalid)?;
        if after == before {
            return Ok(after);
        }
        tx.set_company_details(organization, &after).await?;
        let (mut old, mut new) = (company_json(&before), company_json(&after));
        old.retain(|key, value| new.get(key) != Some(value));
        new.retain(|key, _| old.contains_key(key));
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "organization.company_updated",
            Some(format!("organization:{organization}")),
        );
        event.before = Some(Value::Object(old));
        event.after = Some(Value::Object(new));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(after)
    }
}
