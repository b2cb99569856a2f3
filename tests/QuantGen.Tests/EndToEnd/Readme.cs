using System.Text.RegularExpressions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>The README's text, as the tests that hold it to the truth read it.</summary>
internal static partial class Readme
{
    public static string Path { get; } = System.IO.Path.Combine(TestPaths.RepoRoot, "README.md");

    public static string Text => File.ReadAllText(Path);

    /// <summary>The lines of the README's two numbered commands (the first ```sh block), without comments.</summary>
    public static string[] Commands()
    {
        var block = CodeBlocks(Text).First(b => b.Language == "sh").Body;
        return block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
    }

    /// <summary>The code block right after the HTML comment <c>&lt;!-- quickstart:NAME --&gt;</c>.</summary>
    public static string Snippet(string name)
    {
        var text = Text;
        var marker = $"<!-- quickstart:{name} -->";
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no '{marker}'");
        return CodeBlocks(text[(at + marker.Length)..]).First().Body;
    }

    /// <summary>The first ```sh block of the section whose heading is <paramref name="heading"/>.</summary>
    public static string ShellBlockIn(string heading)
    {
        var text = Text;
        int at = text.IndexOf("## " + heading, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no section '{heading}'");
        return CodeBlocks(text[at..]).First(b => b.Language == "sh").Body;
    }

    private static IEnumerable<(string Language, string Body)> CodeBlocks(string text) =>
        Fence().Matches(text).Select(m => (m.Groups["lang"].Value, m.Groups["body"].Value));

    [GeneratedRegex(@"^```(?<lang>\w*)\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();
}
