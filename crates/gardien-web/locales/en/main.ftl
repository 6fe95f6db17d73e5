# Gardien — English messages of the pages and of API problems.
# Every key here exists in fr/main.ftl too (a test checks it).

## Layout
product-name = Gardien
lang-name = English
lang-switch-label = Language
footer-version = Gardien { $version } · self-hosted team and access management
footer-api = API (OpenAPI)

## Welcome page
home-title = Gardien — Team and access management
home-eyebrow = My team · Users and rights
home-heading = Give every person in your client companies their own login
home-lead = Gardien is the “My team” area of your customer portal: each company invites its colleagues, chooses what each of them may see and do, and changes it at any time — no more shared passwords.
home-sign-in = Sign in
home-sign-up = Create an account
home-features-label = What Gardien does
home-feature-team-title = Your team, in one place
home-feature-team-text = Invite colleagues and client contacts by email, resend or revoke invitations, suspend and restore access. One person can belong to several companies with one login.
home-feature-roles-title = Roles and rights
home-feature-roles-text = Start from ready-made roles — Administrator, Billing, Mail management — or create your own, and fine-tune any person’s rights. Changes apply immediately.
home-feature-audit-title = Every change on record
home-feature-audit-text = Who gave which access to whom, and when. Review access regularly and see who has not signed in for a while.
home-lifecycle-title = The life of a membership
home-lifecycle-text = Each person’s place in a company has a status, shown on the team page.
status-invited = Invited
status-invited-text = An invitation link was emailed; it expires if unused.
status-pending-activation = Pending activation
status-pending-activation-text = Accepted, waiting for an administrator to activate it.
status-active = Active
status-active-text = Signs in and works with the rights of their role.
status-suspended = Suspended
status-suspended-text = Access stopped at once; can be reactivated.
status-removed = Removed
status-removed-text = Kept in the history, struck through; can be restored.
language-form-title = Language
language-form-text = Choose the language of Gardien’s pages on this browser.
language-form-label = Display language
language-form-submit = Save
flash-language-saved = Your language preference has been saved.

## Error pages
error-status = Error { $status }
error-home = Back to the home page
error-reference = Reference to quote if you contact support:

## Problems (API errors and error pages): a title, then what to do
problem-validation-title = Some values are not valid
problem-validation-detail = Correct the fields listed and try again.
problem-bad-request-title = Bad request
problem-bad-request-detail = The request could not be understood. Check its parameters and try again.
problem-unauthorized-title = Sign-in required
problem-unauthorized-detail = Sign in, or send a valid API key, and try again.
problem-forbidden-title = Access denied
problem-forbidden-detail = You do not have the right to do this. Ask an administrator of your organization if you need it.
problem-not-found-title = Page not found
problem-not-found-detail = There is nothing at this address. Check the link, or start again from the home page.
problem-method-not-allowed-title = Method not allowed
problem-method-not-allowed-detail = This address exists but does not accept this kind of request.
problem-timeout-title = The request took too long
problem-timeout-detail = Gardien did not finish in time. Try again in a moment.
problem-conflict-title = Conflict
problem-conflict-detail = This change conflicts with the current state. Reload and try again.
problem-body-too-large-title = Request too large
problem-body-too-large-detail = The data sent is larger than Gardien accepts. Send less at once.
problem-unsupported-media-type-title = Unsupported content type
problem-unsupported-media-type-detail = Send JSON (application/json) or a form, as the API documentation describes.
problem-unprocessable-title = Request not processable
problem-unprocessable-detail = The request is well formed but its content cannot be processed.
problem-too-many-requests-title = Too many requests
problem-too-many-requests-detail = Slow down and try again in a moment.
problem-unavailable-title = Service unavailable
problem-unavailable-detail = Gardien cannot serve this request right now. Try again in a moment.
problem-internal-title = Something went wrong
problem-internal-detail = An unexpected error occurred on our side; nothing was changed. Try again, and quote the reference below if it persists.
problem-csrf-title = Form expired or sent from another site
problem-csrf-cross-site = This request was sent from another website, so Gardien refused it to protect your account. Go back to Gardien and try again from its own page.
problem-csrf-missing-cookie = Your browser did not send Gardien’s security cookie. Allow cookies for this site, reload the page and submit the form again.
problem-csrf-invalid-token = This form has expired or its security token is not valid. Reload the page and submit the form again.

## Validation messages (shown next to form fields)
validation-email-empty = Enter an email address.
validation-email-too-long = An email address cannot be longer than 254 characters.
validation-email-missing-at = The email address needs an @ between a name and a domain, such as ana@example.com.
validation-email-local-part = The part before the @ is not valid. Check the address for typos.
validation-email-domain = The part after the @ is not a valid domain, such as example.com.
validation-empty = This field is required.
validation-too-long = This field cannot be longer than { $max } characters.
validation-control-characters = This field contains invisible control characters. Retype it.
validation-permission-key = “{ $value }” is not a permission key: use lowercase words separated by dots, such as mail.read.
validation-unknown-value = “{ $value }” is not one of the accepted values.
validation-malformed-token = This link is incomplete or damaged. Copy the whole link from the email and try again.
