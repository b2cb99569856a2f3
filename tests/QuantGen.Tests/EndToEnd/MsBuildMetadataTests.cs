using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// The `QuantModel` metadata are spelled in four places that must agree: the defaults in build/QuantGen.props, the
/// QuantizeModel call in build/QuantGen.targets, the task's properties, and docs/msbuild.md. A knob passed to the task
/// but missing from the stamp line would not re-run quantization when it changes (a stale artifact); one missing from
/// the task is an MSBuild error at the first build; one declared in the props but read nowhere is a setting that does
/// nothing.
/// </summary>
public sealed class MsBuildMetadataTests
{
    /// <summary>Task inputs that are the item's identity or paths derived from it, not user settings.</summary>
    private static readonly string[] Derived = ["Identity", "Source", "Artifact", "Report", "HtmlReport", "Qdq", "Stamp"];

    private static string Repo(params string[] parts) => Path.Combine([TestPaths.RepoRoot, .. parts]);

    [Fact]
    public void EveryMetadataTheTaskReadsIsAPropertyOnTheStampLineAndDocumented()
    {
        var targets = XDocument.Load(Repo("build", "QuantGen.targets"));
        var task = targets.Descendants("QuantizeModel").Single();
        var stamp = targets.Descendants("WriteLinesToFile").Single(e => (string?)e.Attribute("File") == "%(_QuantGenModel.Stamp)").Attribute("Lines")!.Value;
        // The task is a partial class over several files (QuantizeModel.cs, QuantizeModel.FineTune.cs, …).
        var taskSource = string.Concat(Directory.GetFiles(Repo("src", "QuantGen.Build"), "QuantizeModel*.cs").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        var docs = File.ReadAllText(Repo("docs", "msbuild.md"));
        int checkedCount = 0;
        foreach (var attribute in task.Attributes())
        {
            Assert.Matches($@"public string {attribute.Name.LocalName} {{ get; set; }}", taskSource);
            if (Regex.Match(attribute.Value, @"^%\(_QuantGenModel\.(\w+)\)$") is not { Success: true } match) continue;
            var name = match.Groups[1].Value;
            if (Derived.Contains(name)) continue;
            Assert.True(stamp.Contains($"{name}=%(_QuantGenModel.{name});", StringComparison.Ordinal), $"{name} is passed to QuantizeModel but not on the stamp line");
            // A row's first cell names it (some rows name two: "| `InputMean`, `InputStd` |").
            Assert.True(Regex.IsMatch(docs, $@"^\| [^|]*`{name}`[^|]*\|", RegexOptions.Multiline), $"{name} has no row in docs/msbuild.md");
            checkedCount++;
        }
        Assert.True(checkedCount >= 30, $"only {checkedCount} metadata found: did the targets' shape change?");
    }

    [Fact]
    public void EveryMetadataThePropsDeclareIsReadByTheTargets()
    {
        var props = XDocument.Load(Repo("build", "QuantGen.props"));
        var declared = props.Descendants("ItemDefinitionGroup").Elements("QuantModel").Elements().Select(e => e.Name.LocalName).ToList();
        Assert.NotEmpty(declared);
        var targets = File.ReadAllText(Repo("build", "QuantGen.targets"));
        foreach (var name in declared)
            Assert.True(targets.Contains($"%(_QuantGenModel.{name})", StringComparison.Ordinal) || targets.Contains($"%(QuantModel.{name})", StringComparison.Ordinal),
                $"QuantGen.props declares {name}, which build/QuantGen.targets never reads");
    }
}
