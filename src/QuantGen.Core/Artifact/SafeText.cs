using System.Globalization;
using System.Text;

namespace QuantGen.Core.Artifact;

/// <summary>
/// The one escaping routine for names (ONNX node, tensor, graph and input names; artifact metadata) on their way into
/// generated C# text or a diagnostic line. ONNX allows any character in a name, so a name is data, never code: it can
/// end no line, close no comment or string, and reorder no text on screen (docs/security.md, "Names never become code").
/// <list type="bullet">
/// <item>In generated source (<see cref="Comment"/>, <see cref="DocComment"/>, <see cref="StringLiteral"/>) only
/// printable ASCII is written as itself; every other char (C0/C1 controls, the line terminators CR, LF, U+0085,
/// U+2028, U+2029, bidi controls, any non-ASCII) is written as the six characters <c>\uXXXX</c>, which a comment
/// shows as text and a string literal turns back into the same char. The generated source is ASCII.</item>
/// <item>In a diagnostic line (<see cref="DiagnosticLine"/>) letters of any script stay readable; controls, line
/// and paragraph separators, format characters (bidi among them), surrogates and private-use chars become <c>\uXXXX</c>.</item>
/// </list>
/// Names longer than <see cref="MaxNameLength"/> chars are shortened in generated text (never in identifiers, which
/// <c>Identifiers</c> caps on its own) to their start, an ellipsis and their length.
/// Compiled into both QuantGen.Core and the netstandard2.0 generator: dependency-free C# only.
/// </summary>
public static class SafeText
{
    /// <summary>Names longer than this are shortened where they are shown in generated comments and strings.</summary>
    public const int MaxNameLength = 200;

    private enum Context
    {
        Comment,
        DocComment,
        StringLiteral,
        Diagnostic,
    }

    /// <summary>A name inside a <c>//</c> comment: one line of printable ASCII.</summary>
    public static string Comment(string name) => Escape(Shorten(name), Context.Comment);

    /// <summary>A name inside a <c>///</c> XML doc comment: as <see cref="Comment"/>, with &amp;, &lt; and &gt; as entities.</summary>
    public static string DocComment(string name) => Escape(Shorten(name), Context.DocComment);

    /// <summary>The content of a regular C# string literal ("…"): quotes and backslashes escaped, everything else outside printable ASCII as \uXXXX.</summary>
    public static string StringLiteral(string name) => Escape(Shorten(name), Context.StringLiteral);

    /// <summary>Diagnostic lines longer than this (a message quoting a 100k-char name) are shortened.</summary>
    public const int MaxDiagnosticLength = 4000;

    /// <summary>
    /// Any text that ends up on one MSBuild or CLI diagnostic line (a path, a message holding names): nothing in it
    /// can start a new line (which would forge a diagnostic) or reorder what the terminal shows.
    /// </summary>
    public static string DiagnosticLine(string text) => Escape(Shorten(text, MaxDiagnosticLength), Context.Diagnostic);

    private static string Shorten(string name, int max = MaxNameLength) =>
        name.Length <= max
            ? name
            : name.Remove(max - 40) + "... (" + name.Length.ToString(CultureInfo.InvariantCulture) + " chars)";

    private static string Escape(string s, Context context)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            string? replacement = Replacement(s, i, context);
            if (replacement is null)
            {
                sb?.Append(c);
                continue;
            }
            sb ??= new StringBuilder(s.Length + 16).Append(s, 0, i);
            sb.Append(replacement);
        }
        return sb is null ? s : sb.ToString();
    }

    private static string? Replacement(string s, int i, Context context)
    {
        char c = s[i];
        if (c >= 0x20 && c < 0x7F)
        {
            return context switch
            {
                Context.StringLiteral when c == '"' => "\\\"",
                Context.StringLiteral when c == '\\' => "\\\\",
                Context.DocComment when c == '&' => "&amp;",
                Context.DocComment when c == '<' => "&lt;",
                Context.DocComment when c == '>' => "&gt;",
                _ => null,
            };
        }
        if (context == Context.Diagnostic && IsVisible(s, i)) return null;
        return "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
    }

    /// <summary>Diagnostics keep readable text of any script; everything that is not a visible glyph or a plain space is escaped.</summary>
    private static bool IsVisible(string s, int i)
    {
        switch (CharUnicodeInfo.GetUnicodeCategory(s[i]))
        {
            case UnicodeCategory.Control:
            case UnicodeCategory.Format:            // bidi embeddings, overrides and isolates, zero-width chars
            case UnicodeCategory.LineSeparator:     // U+2028
            case UnicodeCategory.ParagraphSeparator: // U+2029
            case UnicodeCategory.SpaceSeparator:    // only U+0020 (printable ASCII, handled above) is kept
            case UnicodeCategory.Surrogate:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
                return false;
            default:
                return true;
        }
    }
}
