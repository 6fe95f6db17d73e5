# Gardien — messages français des pages et des problèmes de l’API.
# Chaque clé existe aussi dans en/main.ftl (un test le vérifie).

## Mise en page
product-name = Gardien
lang-name = Français
lang-switch-label = Langue
footer-version = Gardien { $version } · gestion des équipes et des accès, auto-hébergée
footer-api = API (OpenAPI)

## Page d’accueil
home-title = Gardien — Gestion de l’équipe et des accès
home-eyebrow = Mon équipe · Utilisateurs et droits
home-heading = Un identifiant personnel pour chaque collaborateur de vos clients
home-lead = Gardien est l’espace « Mon équipe » de votre portail client : chaque entreprise invite ses collaborateurs, choisit ce que chacun peut voir et faire, et le modifie à tout moment — fini les mots de passe partagés.
home-sign-in = Se connecter
home-sign-up = Créer un compte
home-features-label = Ce que fait Gardien
home-feature-team-title = Toute l’équipe, au même endroit
home-feature-team-text = Invitez collaborateurs et contacts clients par e-mail, renvoyez ou annulez une invitation, suspendez et rétablissez un accès. Une même personne peut appartenir à plusieurs entreprises avec un seul identifiant.
home-feature-roles-title = Rôles et droits
home-feature-roles-text = Partez de rôles prêts à l’emploi — Administrateur, Facturation, Gestion de courrier — ou créez les vôtres, et ajustez les droits de chacun. Les changements s’appliquent immédiatement.
home-feature-audit-title = Chaque changement est tracé
home-feature-audit-text = Qui a donné quel accès à qui, et quand. Auditez régulièrement les accès et repérez qui ne s’est pas connecté depuis longtemps.
home-lifecycle-title = La vie d’un accès
home-lifecycle-text = La place de chaque personne dans une entreprise a un statut, affiché sur la page de l’équipe.
status-invited = Invité
status-invited-text = Un lien d’invitation a été envoyé par e-mail ; il expire s’il n’est pas utilisé.
status-pending-activation = En attente d’activation
status-pending-activation-text = Invitation acceptée, en attente d’activation par un administrateur.
status-active = Actif
status-active-text = Se connecte et travaille avec les droits de son rôle.
status-suspended = Suspendu
status-suspended-text = Accès coupé immédiatement ; peut être réactivé.
status-removed = Retiré
status-removed-text = Conservé dans l’historique, barré ; peut être rétabli.
language-form-title = Langue
language-form-text = Choisissez la langue des pages de Gardien sur ce navigateur.
language-form-label = Langue d’affichage
language-form-submit = Enregistrer
flash-language-saved = Votre préférence de langue a été enregistrée.

## Pages d’erreur
error-status = Erreur { $status }
error-home = Retour à l’accueil
error-reference = Référence à indiquer si vous contactez le support :

## Problèmes (erreurs de l’API et pages d’erreur) : un titre, puis que faire
problem-validation-title = Certaines valeurs ne sont pas valides
problem-validation-detail = Corrigez les champs indiqués et réessayez.
problem-bad-request-title = Requête incorrecte
problem-bad-request-detail = La requête n’a pas pu être comprise. Vérifiez ses paramètres et réessayez.
problem-unauthorized-title = Connexion requise
problem-unauthorized-detail = Connectez-vous, ou envoyez une clé d’API valide, puis réessayez.
problem-login-failed-title = E-mail ou mot de passe incorrect
problem-login-failed-detail = L’e-mail ou le mot de passe est incorrect. Vérifiez les deux et réessayez.
problem-forbidden-title = Accès refusé
problem-forbidden-detail = Vous n’avez pas le droit de faire cela. Demandez-le à un administrateur de votre organisation si besoin.
problem-not-found-title = Page introuvable
problem-not-found-detail = Il n’y a rien à cette adresse. Vérifiez le lien, ou repartez de la page d’accueil.
problem-gone-title = Ce lien ne fonctionne plus
problem-gone-detail = Le lien est inconnu, a déjà servi ou a expiré. Demandez-en un nouveau.
problem-method-not-allowed-title = Méthode non autorisée
problem-method-not-allowed-detail = Cette adresse existe mais n’accepte pas ce type de requête.
problem-timeout-title = La requête a pris trop de temps
problem-timeout-detail = Gardien n’a pas terminé à temps. Réessayez dans un instant.
problem-conflict-title = Conflit
problem-conflict-detail = Ce changement est en conflit avec l’état actuel. Rechargez la page et réessayez.
problem-body-too-large-title = Requête trop volumineuse
problem-body-too-large-detail = Les données envoyées dépassent ce que Gardien accepte. Envoyez-en moins à la fois.
problem-unsupported-media-type-title = Type de contenu non pris en charge
problem-unsupported-media-type-detail = Envoyez du JSON (application/json) ou un formulaire, comme le décrit la documentation de l’API.
problem-unprocessable-title = Requête impossible à traiter
problem-unprocessable-detail = La requête est bien formée mais son contenu ne peut pas être traité.
problem-too-many-requests-title = Trop de requêtes
problem-too-many-requests-detail = Ralentissez et réessayez dans un instant.
problem-too-many-requests-retry-detail = Trop de tentatives. Réessayez dans { $seconds } secondes.
problem-consent-required-title = Politique de confidentialité non acceptée
problem-consent-required-detail = Acceptez d’abord la politique de confidentialité en vigueur : ouvrez /consent, ou envoyez POST /api/v1/me/consent avec sa version.
problem-unavailable-title = Service indisponible
problem-unavailable-detail = Gardien ne peut pas traiter cette requête pour le moment. Réessayez dans un instant.
problem-internal-title = Une erreur est survenue
problem-internal-detail = Une erreur inattendue s’est produite de notre côté ; rien n’a été modifié. Réessayez, et indiquez la référence ci-dessous si elle persiste.
problem-csrf-title = Formulaire expiré ou envoyé depuis un autre site
problem-csrf-cross-site = Cette requête a été envoyée depuis un autre site : Gardien l’a refusée pour protéger votre compte. Revenez sur Gardien et réessayez depuis sa propre page.
problem-csrf-missing-cookie = Votre navigateur n’a pas envoyé le cookie de sécurité de Gardien. Autorisez les cookies pour ce site, rechargez la page et renvoyez le formulaire.
problem-csrf-invalid-token = Ce formulaire a expiré ou son jeton de sécurité n’est pas valide. Rechargez la page et renvoyez le formulaire.

## Messages de validation (affichés à côté des champs)
validation-email-empty = Saisissez une adresse e-mail.
validation-email-too-long = Une adresse e-mail ne peut pas dépasser 254 caractères.
validation-email-missing-at = L’adresse e-mail doit contenir un @ entre un nom et un domaine, par exemple ana@exemple.fr.
validation-email-local-part = La partie avant le @ n’est pas valide. Vérifiez l’adresse.
validation-email-domain = La partie après le @ n’est pas un domaine valide, comme exemple.fr.
validation-empty = Ce champ est obligatoire.
validation-too-long = Ce champ ne peut pas dépasser { $max } caractères.
validation-control-characters = Ce champ contient des caractères de contrôle invisibles. Saisissez-le à nouveau.
validation-permission-key = « { $value } » n’est pas une clé de permission : utilisez des mots en minuscules séparés par des points, comme mail.read.
validation-resource-type = « { $value } » n’est pas un type de ressource : commencez par une lettre minuscule, puis utilisez des lettres minuscules, des chiffres, « _ », « - » ou « . », comme order.
validation-unknown-value = « { $value } » ne fait pas partie des valeurs acceptées.
validation-malformed-token = Ce lien est incomplet ou abîmé. Copiez le lien entier depuis l’e-mail et réessayez.
validation-password-too-short = Utilisez au moins { $min } caractères. Quelques mots sans rapport entre eux font un mot de passe solide et facile à retenir.
validation-password-too-long = Un mot de passe ne peut pas dépasser { $max } caractères.
validation-password-contains-email = Le mot de passe ne doit pas contenir votre adresse e-mail.
validation-password-common = Ce mot de passe fait partie des plus courants, que les attaquants essaient en premier. Choisissez-en un autre.
validation-current-password-wrong = Le mot de passe actuel est incorrect. Retapez-le, ou déconnectez-vous et utilisez « Mot de passe oublié ? ».
validation-notification-email-is-login-email = C’est déjà votre e-mail de connexion : laissez le champ vide, ou indiquez une autre adresse.
validation-phone-number = Indiquez un numéro de téléphone de 6 à 20 chiffres, par exemple +33 6 12 34 56 78.

## Inscription
signup-title = Créer votre compte
signup-heading = Créez l’espace de votre organisation
signup-lead = Vous en gérerez l’équipe : invitez collaborateurs et clients, et choisissez ce que chacun peut faire.
signup-first-name = Prénom
signup-last-name = Nom
signup-organization-name = Nom de l’organisation
signup-organization-hint = Votre entreprise ou cabinet, tel que votre équipe le connaît. Vous pourrez le modifier.
signup-email = E-mail professionnel
signup-password = Mot de passe
signup-password-hint = Au moins 8 caractères. Quelques mots sans rapport entre eux sont solides et faciles à retenir.
signup-submit = Créer mon compte
signup-have-account = Vous avez déjà un compte ?
signup-login-link = Se connecter
signup-sent-title = Consultez vos e-mails
signup-sent-eyebrow = Dernière étape
signup-sent-heading = Consultez vos e-mails
signup-sent-text = Nous avons envoyé un message à l’adresse indiquée. Ouvrez le lien qu’il contient pour confirmer votre adresse.
signup-sent-hint = Rien reçu après quelques minutes ? Regardez dans vos courriers indésirables. Le lien fonctionne 24 heures.
verify-ok-title = Votre adresse e-mail est confirmée
verify-ok-text = Merci. Vous pouvez maintenant vous connecter à l’espace de votre organisation.
verify-login = Se connecter
verify-failed-title = Ce lien ne fonctionne plus
verify-failed-text = Le lien de confirmation est inconnu, a déjà servi ou a expiré (il fonctionne une fois, pendant 24 heures).

## Connexion et choix de l’organisation
login-title = Se connecter
login-heading = Se connecter à Gardien
login-email = E-mail
login-password = Mot de passe
login-submit = Se connecter
login-no-account = Pas encore de compte ?
login-signup-link = Créez-en un
select-organization-title = Choisir une organisation
select-organization-heading = Où voulez-vous aller ?
select-organization-lead = Vous faites partie de plusieurs organisations. Choisissez celle à ouvrir ; vous pourrez en changer à tout moment sans vous reconnecter.
select-organization-none = Votre compte n’a pour l’instant accès à aucune organisation. Demandez à l’administrateur de votre organisation de vous inviter ou de réactiver votre accès.
kind-staff = Collaborateur
kind-client = Client
logout-submit = Se déconnecter
home-signed-in-eyebrow = Connecté
home-signed-in-as = Connecté en tant que { $name }
home-switch-organization = Changer d’organisation

## Mot de passe oublié
login-forgot = Mot de passe oublié ?
reset-request-title = Mot de passe oublié
reset-request-heading = Réinitialiser votre mot de passe
reset-request-lead = Saisissez l’adresse e-mail de votre compte. Nous vous enverrons un lien pour choisir un nouveau mot de passe.
reset-request-submit = M’envoyer un lien
reset-back-to-login = Retour à la connexion
reset-sent-text = Si un compte utilise cette adresse, nous lui avons envoyé un lien pour choisir un nouveau mot de passe. Le lien fonctionne une fois, pendant 30 minutes.
reset-title = Nouveau mot de passe
reset-heading = Choisissez un nouveau mot de passe
reset-new-password = Nouveau mot de passe
reset-submit = Enregistrer mon nouveau mot de passe
reset-done-heading = Votre mot de passe est modifié
reset-done-text = Toutes les sessions de votre compte ont été fermées. Connectez-vous avec votre nouveau mot de passe.
reset-dead-text = Ce lien de réinitialisation est inconnu, a déjà servi ou a expiré (il fonctionne une fois, pendant 30 minutes). Demandez-en un nouveau.

## Consentement à la politique de confidentialité (parcours 7)
consent-title = Politique de confidentialité
consent-heading = Avant de continuer
consent-lead = Merci de lire et d’accepter notre politique de confidentialité (version { $version }) pour utiliser votre compte.
consent-read-policy = Lire la politique de confidentialité
consent-accept = J’ai lu et j’accepte la politique de confidentialité
consent-submit = Continuer
consent-logout = Se déconnecter
consent-not-checked = Cochez la case pour accepter la politique de confidentialité, ou déconnectez-vous.
consent-version-changed = La politique de confidentialité vient de changer : lisez la nouvelle version et acceptez-la.
privacy-title = Politique de confidentialité
privacy-version = Version { $version }
privacy-what = Ce service conserve ce qui est nécessaire pour gérer vos accès : votre adresse e-mail, vos nom, téléphone, fonction et langue, les organisations dont vous êtes membre et votre rôle dans chacune, vos sessions (heure, adresse IP, navigateur) et un journal d’audit des modifications que vous faites.
privacy-why = Il ne s’en sert que pour vous permettre de vous connecter, pour permettre aux administrateurs de vos organisations de gérer les accès et pour garder la trace de qui a changé quoi. Les e-mails ne concernent que votre compte et vos invitations.
privacy-rights = Depuis votre profil, vous pouvez à tout moment télécharger vos données ou supprimer votre compte. Pour toute autre demande, contactez l’administrateur de votre organisation.

## Profil (parcours 12) et changement de mot de passe
profile-title = Mon profil
profile-heading = Mon profil
profile-login-email = E-mail de connexion :
profile-job-title = Fonction
profile-phone = Téléphone
profile-notification-email = E-mail de notification
profile-notification-email-hint = Facultatif. Où envoyer les messages, si ce n’est pas à votre e-mail de connexion.
profile-language = Langue
profile-submit = Enregistrer mon profil
profile-saved = Votre profil est enregistré.
profile-password-heading = Mot de passe
profile-password-lead = Changer votre mot de passe vous déconnecte partout ailleurs.
profile-current-password = Mot de passe actuel
profile-new-password = Nouveau mot de passe
profile-password-submit = Changer mon mot de passe
profile-password-saved = Votre mot de passe est changé. Vos autres sessions sont terminées.
password-generate = Générer un mot de passe robuste
home-profile-link = Mon profil
password-strength-labels = Trop court|Faible|Moyen|Bon|Robuste
sessions-heading = Mes sessions
sessions-lead = Là où vous êtes connecté en ce moment. Terminez toute session que vous ne reconnaissez pas, puis changez votre mot de passe.
sessions-last-seen = Dernière activité
sessions-started = Ouverte le
sessions-from = Depuis
sessions-this-one = Cette session
sessions-revoke = Terminer
sessions-revoke-others = Se déconnecter partout ailleurs
sessions-revoked = La session est terminée.
data-heading = Mes données
data-export = Télécharger mes données (JSON)
data-delete-heading = Supprimer mon compte
data-delete-lead = Votre compte est anonymisé : vos nom, téléphone et mot de passe sont effacés, vous quittez toutes vos organisations, et vos actions passées restent dans le journal d’audit sous une référence anonyme. C’est définitif.
data-delete-password = Votre mot de passe, pour confirmer
data-delete-submit = Supprimer mon compte
data-delete-last-admin = Vous êtes le dernier administrateur de l’une de vos organisations : nommez d’abord un autre administrateur, puis supprimez votre compte.

## Signed-in navigation
nav-label = Principal
nav-team = Équipe
nav-roles = Rôles
nav-company = Entreprise
nav-audit = Journal d’audit
nav-access-review = Revue des accès
banner-resend-verification = Renvoyer le lien
verification-resent = Un nouveau lien de confirmation part vers votre adresse de connexion.
banner-unverified-email = Confirmez votre adresse { $email } avec le lien que nous vous avons envoyé. D’ici là, vous pouvez vous connecter et consulter, mais pas inviter.

## Changement d’e-mail de connexion
validation-same-as-login-email = C’est déjà votre e-mail de connexion.
problem-email-taken-title = Cette adresse a désormais un compte
problem-email-taken-detail = Un autre compte utilise cette adresse depuis votre demande : elle ne peut pas devenir votre e-mail de connexion. Votre e-mail de connexion n’a pas changé.
email-change-heading = E-mail de connexion
email-change-lead = Pour vous connecter avec une autre adresse, indiquez-la ici avec votre mot de passe : nous envoyons un lien à cette adresse, et votre e-mail de connexion change quand vous l’ouvrez. Votre adresse actuelle est prévenue du changement.
email-change-new = Nouvel e-mail de connexion
email-change-submit = Envoyer le lien de confirmation
email-change-sent = Nous avons envoyé un lien de confirmation à la nouvelle adresse. Votre e-mail de connexion change quand vous l’ouvrez.
email-change-title = Confirmez votre nouvel e-mail de connexion
email-change-confirm-text = Confirmez pour faire de cette adresse l’e-mail de connexion de votre compte. L’ancienne adresse ne permettra plus de vous connecter.
email-change-confirm-submit = Confirmer la nouvelle adresse
email-change-done-title = Votre e-mail de connexion a changé
email-change-done-text = Désormais, connectez-vous avec { $email }.
email-change-unusable-text = Ce lien est inconnu, déjà utilisé ou expiré. Votre e-mail de connexion n’a pas changé : refaites la demande depuis votre profil.

## Fournisseur OpenID Connect
oidc-refused-title = Demande de connexion refusée
oidc-refused-heading = Cette demande de connexion ne peut pas être suivie
oidc-refused-lead = L’application qui vous a envoyé ici a fait une demande à laquelle Gardien ne peut pas se fier : vous n’y avez donc pas été renvoyé. Transmettez ceci à ses développeurs :
oidc-consent-title = Partager votre accès
oidc-consent-heading = { $client } souhaite vous connecter
oidc-consent-organization = Pour l’organisation { $organization }.
oidc-consent-lead = Si vous l’autorisez, Gardien lui communiquera :
oidc-scope-openid = qui vous êtes (un identifiant de votre compte)
oidc-scope-email = votre adresse e-mail
oidc-scope-profile = votre nom et votre langue
oidc-scope-organization = l’organisation choisie, votre rôle et vos droits dans celle-ci
oidc-scope-offline-access = qu’elle peut rester connectée en votre absence
oidc-consent-allow = Autoriser
oidc-consent-deny = Refuser
oidc-logout-title = Déconnexion
oidc-logout-heading = Se déconnecter de Gardien ?
oidc-logout-lead = Une application demande à vous déconnecter. Vous serez déconnecté de Gardien et des applications ouvertes avec lui.
oidc-logout-confirm = Se déconnecter
oidc-logout-cancel = Rester connecté
