"""Fill the started English catalogue from this table, then compile it.

Run after ``pybabel extract``/``update``: python scripts/translate_en.py
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

EN = {
    "Accueil": "Home",
    "Connexion": "Log in",
    "Connectez-vous": "Log in",
    "Se connecter": "Log in",
    "Se déconnecter": "Log out",
    "M'inscrire": "Sign up",
    "Mon compte": "My account",
    "Menu principal": "Main menu",
    "Pied de page": "Footer",
    "Aller au contenu": "Skip to content",
    "Mentions légales": "Legal notice",
    "CGU": "Terms of use",
    "Plan du site": "Site map",
    "Accessibilité : non conforme": "Accessibility: non-compliant",
    "Cookies": "Cookies",
    "Données personnelles": "Personal data",
    "Vous avez déjà un compte ?": "Already have an account?",
    "Vous n'avez pas de compte ?": "No account yet?",
    "Email / Identifiant": "Email / Identifier",
    "Mot de passe": "Password",
    "Identifiant oublié": "Forgotten identifier",
    "Mot de passe oublié": "Forgotten password",
    "Identifiant": "Identifier",
    "Email": "Email",
    "Valider": "Submit",
    "Annuler": "Cancel",
    "Retour": "Back",
    "Il y a un problème": "There is a problem",
    "Erreur :": "Error:",
    "Erreur : ": "Error: ",
    "Les champs marqués d'un astérisque (*) sont obligatoires.": "Fields marked with an asterisk (*) are required.",
    "Création de votre compte": "Create your account",
    "Créer mon compte": "Create my account",
    "Confirmation de l'Email": "Confirm email",
    "Nouveau mot de passe": "New password",
    "Confirmer votre mot de passe": "Confirm your password",
    "Votre mot de passe doit comporter :": "Your password must contain:",
    "La saisie de l'identifiant est obligatoire.": "Enter your identifier.",
    "La saisie du mot de passe est obligatoire.": "Enter your password.",
    "La saisie de l'email est obligatoire et doit être une adresse email valide.": "Enter a valid email address.",
    "Identifiant ou mot de passe incorrect.": "Incorrect identifier or password.",
    "Page introuvable": "Page not found",
    "Retour à l'accueil": "Back to home",
    "Gérer mon compte": "Manage my account",
    "Mes informations personnelles": "My personal information",
    "Modifier mon mot de passe": "Change my password",
    "Supprimer mon compte": "Delete my account",
    "Enregistrer": "Save",
    "Si cette adresse correspond à un compte, un email contenant votre identifiant vient de "
    "vous être envoyé.": "If this address belongs to an account, an email with your identifier "
    "has just been sent to it.",
    "Si cet identifiant correspond à un compte, un email contenant un lien pour choisir un "
    "nouveau mot de passe vient d'être envoyé à l'adresse associée. Ce lien est valable une heure.":
    "If this identifier belongs to an account, an email with a link to choose a new password has "
    "just been sent to its address. The link is valid for one hour.",
    "Vous allez recevoir un email vous indiquant la marche à suivre pour finaliser la création "
    "de votre compte.": "You will receive an email explaining how to finish creating your account.",
    "Trop de tentatives de connexion. Veuillez réessayer dans %(n)s minute(s).":
    "Too many login attempts. Please try again in %(n)s minute(s).",
    "Vous avez déjà un compte": "You already have an account",
    "Finalisez la création de votre compte": "Finish creating your account",
    "Votre compte est créé": "Your account has been created",
    "Votre identifiant": "Your identifier",
    "Réinitialisation de votre mot de passe": "Resetting your password",
    "Votre mot de passe a été modifié": "Your password has been changed",
    "Votre compte est activé": "Your account is active",
    "Confirmez votre nouvelle adresse email": "Confirm your new email address",
    "Demande de changement d'adresse email": "Email address change requested",
    "Votre adresse email a été modifiée": "Your email address has been changed",
    "Votre compte a été supprimé": "Your account has been deleted",
}


def main() -> None:
    po_path = Path(__file__).resolve().parent.parent / "translations/en/LC_MESSAGES/messages.po"
    with po_path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id and message.id in EN:
            message.string = EN[message.id]
            message.flags.discard("fuzzy")
    with po_path.open("wb") as f:
        write_po(f, catalog, width=100)
    with po_path.with_suffix(".mo").open("wb") as f:
        write_mo(f, catalog)


if __name__ == "__main__":
    main()
