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
problem-login-failed-title = Wrong email or password
problem-login-failed-detail = The email or the password is wrong. Check both and try again.
problem-forbidden-title = Access denied
problem-forbidden-detail = You do not have the right to do this. Ask an administrator of your organization if you need it.
problem-not-found-title = Page not found
problem-not-found-detail = There is nothing at this address. Check the link, or start again from the home page.
problem-gone-title = This link no longer works
problem-gone-detail = The link is unknown, was already used, or has expired. Ask for a new one.
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
problem-too-many-requests-retry-detail = Too many attempts. Try again in { $seconds } seconds.
problem-consent-required-title = Privacy policy not accepted
problem-consent-required-detail = Accept the current privacy policy first: open /consent, or send POST /api/v1/me/consent with its version.
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
validation-resource-type = “{ $value }” is not a resource type: start with a lowercase letter, then use lowercase letters, digits, “_”, “-” or “.”, such as order.
validation-unknown-value = “{ $value }” is not one of the accepted values.
validation-malformed-token = This link is incomplete or damaged. Copy the whole link from the email and try again.
validation-password-too-short = Use at least { $min } characters. A few unrelated words make a strong password that is easy to remember.
validation-password-too-long = A password cannot be longer than { $max } characters.
validation-password-contains-email = The password must not contain your email address.
validation-password-common = This password is one of the most common ones, which attackers try first. Choose another.
validation-current-password-wrong = The current password is wrong. Type it again, or log out and use “Forgot your password?”.
validation-notification-email-is-login-email = This is already your login email: leave the field empty, or give another address.
validation-phone-number = Enter a phone number with 6 to 20 digits, such as +33 6 12 34 56 78.

## Sign-up
signup-title = Create your account
signup-heading = Create your organization’s space
signup-lead = You will manage its team: invite colleagues and clients, and choose what each of them may do.
signup-first-name = First name
signup-last-name = Last name
signup-organization-name = Organization name
signup-organization-hint = Your company or firm, as your team knows it. You can change it later.
signup-email = Work email
signup-password = Password
signup-password-hint = At least 8 characters. A few unrelated words are strong and easy to remember.
signup-submit = Create my account
signup-have-account = Already have an account?
signup-login-link = Sign in
signup-sent-title = Check your email
signup-sent-eyebrow = One last step
signup-sent-heading = Check your email
signup-sent-text = We have sent a message to the address you gave. Open the link it contains to confirm your address.
signup-sent-hint = Nothing received after a few minutes? Check your spam folder. The link works for 24 hours.
verify-ok-title = Your email address is confirmed
verify-ok-text = Thank you. You can now sign in to your organization’s space.
verify-login = Sign in
verify-failed-title = This link no longer works
verify-failed-text = The confirmation link is unknown, was already used, or has expired (it works once, for 24 hours).

## Login and organization picker
login-title = Sign in
login-heading = Sign in to Gardien
login-email = Email
login-password = Password
login-submit = Sign in
login-no-account = No account yet?
login-signup-link = Create one
select-organization-title = Choose an organization
select-organization-heading = Where do you want to go?
select-organization-lead = You belong to several organizations. Choose the one to open; you can switch at any time without signing in again.
select-organization-none = Your account has no active access to any organization at the moment. Ask the administrator of your organization to invite you or to reactivate your access.
kind-staff = Staff
kind-client = Client
logout-submit = Sign out
home-signed-in-eyebrow = Signed in
home-signed-in-as = Signed in as { $name }
home-switch-organization = Switch organization

## Forgotten password
login-forgot = Forgot your password?
reset-request-title = Forgotten password
reset-request-heading = Reset your password
reset-request-lead = Enter the email address of your account. We will send you a link to choose a new password.
reset-request-submit = Send me a link
reset-back-to-login = Back to sign in
reset-sent-text = If an account uses this address, we have sent it a link to choose a new password. The link works once, for 30 minutes.
reset-title = New password
reset-heading = Choose a new password
reset-new-password = New password
reset-submit = Save my new password
reset-done-heading = Your password is changed
reset-done-text = Every session of your account has been signed out. Sign in with your new password.
reset-dead-text = This reset link is unknown, was already used, or has expired (it works once, for 30 minutes). Ask for a new one.

## Privacy policy consent (flow 7)
consent-title = Privacy policy
consent-heading = Before you continue
consent-lead = Please read and accept our privacy policy (version { $version }) to use your account.
consent-read-policy = Read the privacy policy
consent-accept = I have read and accept the privacy policy
consent-submit = Continue
consent-logout = Log out
consent-not-checked = Tick the box to accept the privacy policy, or log out.
consent-version-changed = The privacy policy has just changed: read the new version and accept it.
privacy-title = Privacy policy
privacy-version = Version { $version }
privacy-what = This service keeps what it needs to manage your access: your email address, name, phone, title and language, the organizations you belong to and your role in each, your sessions (time, IP address, browser), and an audit trail of the changes you make.
privacy-why = It uses them only to let you log in, to let the administrators of your organizations manage access, and to keep a trace of who changed what. Emails are sent only for your account and your invitations.
privacy-rights = From your profile you can download your data or delete your account at any time. For any other request, contact the administrator of your organization.

## Profile (flow 12) and password change
profile-title = My profile
profile-heading = My profile
profile-login-email = Login email:
profile-job-title = Title
profile-phone = Phone
profile-notification-email = Notification email
profile-notification-email-hint = Optional. Where messages are sent, if not to your login email.
profile-language = Language
profile-submit = Save my profile
profile-saved = Your profile is saved.
profile-password-heading = Password
profile-password-lead = Changing your password logs you out everywhere else.
profile-current-password = Current password
profile-new-password = New password
profile-password-submit = Change my password
profile-password-saved = Your password is changed. Your other sessions have ended.
password-generate = Generate a strong password
home-profile-link = My profile
password-strength-labels = Too short|Weak|Fair|Good|Strong
sessions-heading = My sessions
sessions-lead = Where you are logged in now. End any session you do not recognize, then change your password.
sessions-last-seen = Last active
sessions-started = Started
sessions-from = From
sessions-this-one = This session
sessions-revoke = End
sessions-revoke-others = Log out everywhere else
sessions-revoked = The session has ended.
data-heading = My data
data-export = Download my data (JSON)
data-delete-heading = Delete my account
data-delete-lead = Your account is anonymized: your name, phone and password are erased, you leave every organization, and your past actions stay in the audit trail under an anonymous reference. This cannot be undone.
data-delete-password = Your password, to confirm
data-delete-submit = Delete my account
data-delete-last-admin = You are the last administrator of one of your organizations: make someone else an administrator there first, then delete your account.

## Signed-in navigation
nav-label = Main
nav-team = Team
nav-roles = Roles
nav-company = Company
nav-audit = Audit trail
nav-access-review = Access review
banner-resend-verification = Send the link again
verification-resent = A new confirmation link is on its way to your login address.
banner-unverified-email = Confirm your email address { $email } with the link we sent you. Until then you can sign in and look around, but you cannot invite anyone.

## Login email change
validation-same-as-login-email = This is already your login email.
problem-email-taken-title = This address now has an account
problem-email-taken-detail = Another account started using this address after your request, so it cannot become your login email. Your login email has not changed.
email-change-heading = Login email
email-change-lead = To log in with another address, give it here with your password: we send a link to that address, and your login email changes when you open it. Your current address is told of the change.
email-change-new = New login email
email-change-submit = Send the confirmation link
email-change-sent = We sent a confirmation link to the new address. Your login email changes when you open it.
email-change-title = Confirm your new login email
email-change-confirm-text = Confirm to make this address the login email of your account. Your previous address will no longer let you log in.
email-change-confirm-submit = Confirm the new address
email-change-done-title = Your login email has changed
email-change-done-text = From now on, log in with { $email }.
email-change-unusable-text = This link is unknown, already used or expired. Your login email has not changed: ask again from your profile.

## OpenID Connect provider
oidc-refused-title = Sign-in request refused
oidc-refused-heading = This sign-in request cannot be followed
oidc-refused-lead = The application that sent you here made a request Gardien cannot trust, so you were not sent back to it. Tell its developers what follows:
oidc-consent-title = Share your access
oidc-consent-heading = { $client } wants to sign you in
oidc-consent-organization = For the organization { $organization }.
oidc-consent-lead = If you allow it, Gardien will tell it:
oidc-scope-openid = who you are (an identifier of your account)
oidc-scope-email = your email address
oidc-scope-profile = your name and language
oidc-scope-organization = the organization you chose, your role and your rights there
oidc-scope-offline-access = that it may stay signed in while you are away
oidc-consent-allow = Allow
oidc-consent-deny = Decline
oidc-logout-title = Sign out
oidc-logout-heading = Sign out of Gardien?
oidc-logout-lead = An application asks to sign you out. You will be signed out of Gardien and of the applications you opened with it.
oidc-logout-confirm = Sign out
oidc-logout-cancel = Stay signed in
