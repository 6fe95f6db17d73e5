//! The check API's use cases (flow 11): `may(account, organization,
//! permission, resource?)`, its batch form, the resources of a type a member
//! may use, and a member's effective permissions — all answered from the
//! in-memory index, for a host back end authenticated by an API key.
//!
//! An API key scoped to one organization may only ask about that
//! organization ([`ServiceError::Forbidden`] otherwise). When the index is
//! not known to be current, checks fail ([`ServiceError::IndexOutOfDate`])
//! rather than risk serving a revoked right.

use std::collections::BTreeSet;

use gardien_authz::{CheckRequest, Visible, MAX_BATCH};
use gardien_core::evaluator::{Decision, ResourceRef};
use gardien_core::{AccountId, MembershipId, OrganizationId, PermissionKey, ValidationError};
use gardien_store::ApiKey;

use crate::{ServiceError, Services};

/// The longest resource type or id accepted.
const RESOURCE_PART_MAX: usize = 200;

/// Which organizations an API key may ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    Organization(OrganizationId),
    Deployment,
}

impl From<&ApiKey> for KeyScope {
    fn from(key: &ApiKey) -> Self {
        match key.organization_id {
            Some(organization) => Self::Organization(organization),
            None => Self::Deployment,
        }
    }
}

impl KeyScope {
    pub(crate) fn allows(self, organization: OrganizationId) -> Result<(), ServiceError> {
        match self {
            Self::Deployment => Ok(()),
            Self::Organization(own) if own == organization => Ok(()),
            Self::Organization(_) => Err(ServiceError::Forbidden),
        }
    }
}

/// One question, as received (permission and resource not yet checked).
#[derive(Debug, Clone)]
pub struct CheckQuery {
    pub account_id: AccountId,
    pub organization_id: OrganizationId,
    pub permission: String,
    /// `(type, id)`.
    pub resource: Option<(String, String)>,
}

fn resource_part(value: &str, field: &'static str) -> Result<String, ServiceError> {
    let value = value.trim();
    let error = if value.is_empty() {
        ValidationError::Empty { field }
    } else if value.chars().count() > RESOURCE_PART_MAX {
        ValidationError::TooLong {
            field,
            max: RESOURCE_PART_MAX,
        }
    } else if value.chars().any(char::is_control) {
        ValidationError::ControlCharacters { field }
    } else {
        return Ok(value.to_owned());
    };
    Err(ServiceError::Invalid(vec![(field, error)]))
}

fn resource(resource: &(String, String)) -> Result<ResourceRef, ServiceError> {
    Ok(ResourceRef {
        resource_type: resource_part(&resource.0, "resource.type")?,
        resource_id: resource_part(&resource.1, "resource.id")?,
    })
}

impl CheckQuery {
    fn parse(&self, scope: KeyScope, services: &Services) -> Result<CheckRequest, ServiceError> {
        scope.allows(self.organization_id)?;
        Ok(CheckRequest {
            account_id: self.account_id,
            organization_id: self.organization_id,
            permission: services.catalog_permission(&self.permission)?,
            resource: self.resource.as_ref().map(resource).transpose()?,
        })
    }
}

impl Services {
    pub(crate) fn ensure_index_current(&self) -> Result<(), ServiceError> {
        if self.authz_is_current() {
            Ok(())
        } else {
            Err(ServiceError::IndexOutOfDate)
        }
    }

    /// May the account use the permission (on the resource) in the organization?
    pub fn check(&self, scope: KeyScope, query: &CheckQuery) -> Result<Decision, ServiceError> {
        let request = query.parse(scope, self)?;
        self.ensure_index_current()?;
        Ok(self.authz_index().check(
            request.account_id,
            request.organization_id,
            &request.permission,
            request.resource.as_ref(),
        ))
    }

    /// Answers up to [`MAX_BATCH`] questions, in order.
    pub fn check_batch(
        &self,
        scope: KeyScope,
        queries: &[CheckQuery],
    ) -> Result<Vec<Decision>, ServiceError> {
        if queries.len() > MAX_BATCH {
            return Err(ServiceError::BatchTooLarge { max: MAX_BATCH });
        }
        let requests = queries
            .iter()
            .map(|q| q.parse(scope, self))
            .collect::<Result<Vec<_>, _>>()?;
        self.ensure_index_current()?;
        Ok(self.authz_index().check_batch(&requests))
    }

    /// Which resources of `resource_type` the account may use the permission on.
    pub fn visible_resources(
        &self,
        scope: KeyScope,
        account: AccountId,
        organization: OrganizationId,
        permission: &str,
        resource_type: &str,
    ) -> Result<Visible, ServiceError> {
        scope.allows(organization)?;
        let permission = self.catalog_permission(permission)?;
        let resource_type = resource_part(resource_type, "resource_type")?;
        self.ensure_index_current()?;
        Ok(self
            .authz_index()
            .visible_resources(account, organization, &permission, &resource_type))
    }

    /// The permissions a member holds after overrides (empty unless active).
    pub async fn effective_permissions(
        &self,
        scope: KeyScope,
        organization: OrganizationId,
        member: MembershipId,
    ) -> Result<BTreeSet<PermissionKey>, ServiceError> {
        scope.allows(organization)?;
        let mut tx = self.store.begin_read().await?;
        let membership = tx
            .membership(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        drop(tx);
        self.ensure_index_current()?;
        Ok(self
            .authz_index()
            .effective_permissions(membership.account_id, organization))
    }
}
