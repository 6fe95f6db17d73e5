//! The client space's demo data: letters received at the domiciliation
//! address, the portal's invoices and the legal formalities under way. The
//! same static set for every organization; only the addressee changes.

/// A letter received and (usually) scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Letter {
    pub id: &'static str,
    pub sender: &'static str,
    pub subject: &'static str,
    /// As shown, `JJ/MM/AAAA`.
    pub received: &'static str,
    pub pages: u8,
    pub status: LetterStatus,
    pub tag: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterStatus {
    /// Scanned: the PDF can be downloaded.
    Scanned,
    /// Received this morning, not scanned yet.
    Scanning,
    /// Scanned and sent on to the postal address the client chose.
    Forwarded,
}

impl LetterStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Scanned => "Numérisé",
            Self::Scanning => "Numérisation en cours",
            Self::Forwarded => "Numérisé et réexpédié",
        }
    }

    /// The badge's CSS class.
    pub fn tone(self) -> &'static str {
        match self {
            Self::Scanned => "ok",
            Self::Scanning => "wait",
            Self::Forwarded => "info",
        }
    }

    pub fn is_scanned(self) -> bool {
        !matches!(self, Self::Scanning)
    }
}

pub const LETTERS: &[Letter] = &[
    Letter {
        id: "c-2611-07",
        sender: "URSSAF Île-de-France",
        subject: "Appel de cotisations — 4e trimestre",
        received: "26/11/2026",
        pages: 2,
        status: LetterStatus::Scanning,
        tag: Some("Social"),
    },
    Letter {
        id: "c-2411-06",
        sender: "Direction générale des Finances publiques",
        subject: "Avis de CFE 2026",
        received: "24/11/2026",
        pages: 3,
        status: LetterStatus::Scanned,
        tag: Some("Impôts"),
    },
    Letter {
        id: "c-1911-05",
        sender: "Banque Populaire Rives de Paris",
        subject: "Relevé de compte professionnel — octobre",
        received: "19/11/2026",
        pages: 4,
        status: LetterStatus::Scanned,
        tag: Some("Banque"),
    },
    Letter {
        id: "c-1211-04",
        sender: "Greffe du tribunal de commerce de Paris",
        subject: "Extrait Kbis à jour",
        received: "12/11/2026",
        pages: 1,
        status: LetterStatus::Forwarded,
        tag: Some("Juridique"),
    },
    Letter {
        id: "c-0511-03",
        sender: "AXA Assurances Pro",
        subject: "Échéancier multirisque professionnelle",
        received: "05/11/2026",
        pages: 2,
        status: LetterStatus::Scanned,
        tag: None,
    },
    Letter {
        id: "c-2810-02",
        sender: "INPI",
        subject: "Accusé de dépôt de marque",
        received: "28/10/2026",
        pages: 1,
        status: LetterStatus::Scanned,
        tag: Some("Juridique"),
    },
];

pub fn letter(id: &str) -> Option<&'static Letter> {
    LETTERS.iter().find(|l| l.id == id)
}

/// An invoice of the domiciliation subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoice {
    pub id: &'static str,
    pub number: &'static str,
    pub issued: &'static str,
    pub label: &'static str,
    /// Amount including VAT, in cents.
    pub amount_cents: u32,
    pub paid: bool,
}

impl Invoice {
    /// `1 234,50 €`, as French invoices write it.
    pub fn amount(&self) -> String {
        euros(self.amount_cents)
    }
}

pub const INVOICES: &[Invoice] = &[
    Invoice {
        id: "f-2026-11",
        number: "FA-2026-1187",
        issued: "01/11/2026",
        label: "Domiciliation — abonnement novembre",
        amount_cents: 3_480,
        paid: false,
    },
    Invoice {
        id: "f-2026-10",
        number: "FA-2026-1052",
        issued: "01/10/2026",
        label: "Domiciliation — abonnement octobre",
        amount_cents: 3_480,
        paid: true,
    },
    Invoice {
        id: "f-2026-09b",
        number: "FA-2026-0977",
        issued: "14/09/2026",
        label: "Réexpédition de courrier — 12 plis",
        amount_cents: 1_536,
        paid: true,
    },
    Invoice {
        id: "f-2026-09",
        number: "FA-2026-0931",
        issued: "01/09/2026",
        label: "Domiciliation — abonnement septembre",
        amount_cents: 3_480,
        paid: true,
    },
    Invoice {
        id: "f-2026-08",
        number: "FA-2026-0815",
        issued: "02/08/2026",
        label: "Transfert de siège — formalité",
        amount_cents: 19_900,
        paid: true,
    },
];

pub fn invoice(id: &str) -> Option<&'static Invoice> {
    INVOICES.iter().find(|i| i.id == id)
}

/// A legal formality the portal handles for the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formality {
    pub title: &'static str,
    pub opened: &'static str,
    /// The steps, and how many are done.
    pub steps: &'static [&'static str],
    pub done: usize,
    /// What the company must do now, if anything.
    pub action: Option<&'static str>,
}

impl Formality {
    pub fn finished(&self) -> bool {
        self.done >= self.steps.len()
    }

    /// Progress in percent, for the bar.
    pub fn percent(&self) -> usize {
        (self.done * 100) / self.steps.len().max(1)
    }

    pub fn status(&self) -> &'static str {
        match (self.finished(), self.action) {
            (true, _) => "Terminée",
            (false, Some(_)) => "Action requise",
            (false, None) => "En cours",
        }
    }

    pub fn tone(&self) -> &'static str {
        match (self.finished(), self.action) {
            (true, _) => "ok",
            (false, Some(_)) => "warn",
            (false, None) => "info",
        }
    }
}

const STEPS: &[&str] = &[
    "Informations reçues",
    "Documents rédigés",
    "Signature électronique",
    "Dépôt au greffe",
    "Enregistrement",
];

pub const FORMALITIES: &[Formality] = &[
    Formality {
        title: "Modification des statuts — changement d'objet social",
        opened: "03/11/2026",
        steps: STEPS,
        done: 2,
        action: Some("Signer le procès-verbal d'assemblée"),
    },
    Formality {
        title: "Dépôt des comptes annuels 2025",
        opened: "15/10/2026",
        steps: STEPS,
        done: 3,
        action: None,
    },
    Formality {
        title: "Transfert de siège social",
        opened: "02/08/2026",
        steps: STEPS,
        done: 5,
        action: None,
    },
];

/// `1 234,50 €`.
pub fn euros(cents: u32) -> String {
    let units = (cents / 100).to_string();
    // Digits are ASCII: groups of three from the right, the first shorter.
    let head = match units.len() % 3 {
        0 => 3.min(units.len()),
        short => short,
    };
    let mut groups = vec![&units[..head]];
    groups.extend(
        units.as_bytes()[head..]
            .chunks(3)
            .filter_map(|group| std::str::from_utf8(group).ok()),
    );
    format!("{},{:02}\u{a0}€", groups.join("\u{202f}"), cents % 100)
}

/// A one-page PDF standing for a scanned document: a title and lines of
/// text in Helvetica (a standard font: nothing embedded). Text is written
/// in WinAnsi (Latin-1 for French), offsets computed for the xref table.
pub fn pdf(title: &str, lines: &[String]) -> Vec<u8> {
    fn latin1(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for c in text.chars() {
            let c = match c {
                '\u{202f}' | '\u{a0}' => ' ',
                '—' | '–' => '-',
                '’' => '\'',
                '€' => {
                    out.push(0x80);
                    continue;
                }
                other => other,
            };
            match u8::try_from(u32::from(c)) {
                Ok(b'(') | Ok(b')') | Ok(b'\\') => {
                    out.push(b'\\');
                    out.push(c as u8);
                }
                Ok(byte) => out.push(byte),
                Err(_) => out.push(b'?'),
            }
        }
        out
    }
    let mut content = b"BT /F1 18 Tf 72 760 Td (".to_vec();
    content.extend(latin1(title));
    content.extend_from_slice(b") Tj /F1 11 Tf 0 -30 Td 16 TL");
    for line in lines {
        content.extend_from_slice(b" (");
        content.extend(latin1(line));
        content.extend_from_slice(b") '");
    }
    content.extend_from_slice(b" ET");

    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
        [
            format!("<< /Length {} >>\nstream\n", content.len()).into_bytes(),
            content,
            b"\nendstream".to_vec(),
        ]
        .concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_the_french_way() {
        assert_eq!(euros(3_480), "34,80\u{a0}€");
        assert_eq!(euros(1_234_567), "12\u{202f}345,67\u{a0}€");
        assert_eq!(euros(5), "0,05\u{a0}€");
    }

    #[test]
    fn formalities_tell_their_progress() {
        let done = FORMALITIES.iter().find(|f| f.finished()).unwrap();
        assert_eq!((done.percent(), done.status()), (100, "Terminée"));
        let waiting = FORMALITIES.iter().find(|f| f.action.is_some()).unwrap();
        assert_eq!(waiting.status(), "Action requise");
        assert_eq!(waiting.percent(), 40);
    }

    #[test]
    fn ids_are_unique_and_found() {
        for letter in LETTERS {
            assert_eq!(super::letter(letter.id), Some(letter));
        }
        for invoice in INVOICES {
            assert_eq!(super::invoice(invoice.id), Some(invoice));
        }
        assert_eq!(super::letter("nope"), None);
    }

    #[test]
    fn the_pdf_has_a_correct_cross_reference_table() {
        let pdf = pdf("Facture (test)", &["Montant : 34,80 €".into()]);
        // One character per byte, so that offsets in `text` are the file's.
        let text: String = pdf
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '?' })
            .collect();
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.ends_with("%%EOF\n"));
        // Every xref entry points at its "N 0 obj".
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[xref_at..].starts_with("xref"));
        let entries: Vec<usize> = text[xref_at..]
            .lines()
            .skip(3)
            .take(5)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        for (i, offset) in entries.iter().enumerate() {
            assert!(pdf[*offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
        // Parentheses are escaped, the euro sign is WinAnsi 0x80.
        assert!(text.contains("Facture \\(test\\)"));
        assert!(pdf.windows(2).any(|w| w == [b' ', 0x80]));
    }
}
