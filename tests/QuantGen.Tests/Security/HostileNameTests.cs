using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;

namespace QuantGen.Tests.Security;

/// <summary>
/// Names never become code (issue 19): every name of an artifact (model, metadata, tensors, inputs, outputs, layers,
/// comments) carries an injection payload, and the generated model must compile with no diagnostic, declare no type
/// the model did not ask for (the assembly's type list equals the clean model's), hold no directive, line terminator,
/// control or bidi char, and keep the name's exact value where it is a string.
/// </summary>
public sealed class HostileNameTests
{
    private static readonly Dictionary<string, string> TinyClass = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "Tiny" };

    public static IEnumerable<object[]> Payloads() => HostileNames.Payloads.Select(p => new object[] { p.Label });

    private static IReadOnlyList<string> CleanTypes { get; } =
        HostileNames.Generate(ArtifactText.Write(HostileNames.Tiny()), HostileNames.Probe("Tiny"), TinyClass).TypeNames();

    [Theory]
    [MemberData(nameof(Payloads))]
    public void APayloadInEveryNameStaysData(string label)
    {
        var payload = HostileNames.Payloads.Single(p => p.Label == label).Payload;
        var text = ArtifactText.Write(HostileNames.Rename(HostileNames.Tiny(), n => n + payload));
        var result = HostileNames.Generate(text, HostileNames.Probe("Tiny"), TinyClass);

        HostileNames.AssertHarmless(result);
        Assert.Equal(CleanTypes, result.TypeNames());
        // The string literal is the name itself, not a mangled copy: the length check's message starts with it. (As the
        // artifact carries it: UTF-8 and percent-encoding turn a lone surrogate into U+FFFD, as ONNX's protobuf would.)
        var message = HostileNames.RunWithWrongInput(result, "Tiny");
        Assert.StartsWith(ArtifactText.Read(text).Inputs[0].Name + " needs 4 values, got 3.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClassNameFromTheModelNameIsAnIdentifier()
    {
        // No ClassName metadata: the class is named after the model, whose name is the ModuleInitializer payload.
        var payload = HostileNames.Payloads[0].Payload;
        var artifact = HostileNames.Rename(HostileNames.Tiny(), n => n + payload);
        var result = HostileNames.Generate(ArtifactText.Write(artifact));
        HostileNames.AssertHarmless(result);
        var types = result.TypeNames();
        var model = Assert.Single(types, t => t.StartsWith("Demo.Models.", StringComparison.Ordinal));
        Assert.Matches("^Demo\\.Models\\.[A-Za-z0-9]{1,55}_[0-9a-f]{8}$", model);
        Assert.DoesNotContain(types, t => t.EndsWith("Pwned", StringComparison.Ordinal));
        Assert.Equal(CleanTypes.Where(t => !t.StartsWith("Demo.Models.", StringComparison.Ordinal) && t != "Probe"),
            types.Where(t => !t.StartsWith("Demo.Models.", StringComparison.Ordinal)));
    }

    [Fact]
    public void HundredThousandCharacterNamesAreCappedAndStillCompile()
    {
        // Every name 100k chars longer (they stay distinct: they differ at their start): identifiers are capped at 64 chars with a hash of the
        // whole name, comments and strings at 200 chars with the length.
        var artifact = HostileNames.Rename(HostileNames.Tiny(), n => n + new string('a', 100_000));
        var result = HostileNames.Generate(ArtifactText.Write(artifact), HostileNames.Probe("Tiny"), TinyClass);
        HostileNames.AssertHarmless(result);
        Assert.Equal(CleanTypes, result.TypeNames());
        var tree = result.ModelTree.GetRoot();
        var longest = tree.DescendantTokens().Where(t => t.IsKind(SyntaxKind.IdentifierToken)).Max(t => t.ValueText.Length);
        Assert.InRange(longest, 1, 64 + "Weights".Length);
        Assert.True(result.ModelTree.ToString().Length < 20_000, $"{result.ModelTree.ToString().Length} chars of generated model");
        Assert.Contains("(100002 chars)", result.ModelTree.ToString());
    }

    /// <summary>
    /// A multi-output model whose output "fully_connected" would make FullyConnectedLength, as the FullyConnected layer
    /// named "length" does (CS0102 before the identifier policy took every member name), and a layer whose name
    /// collides with another's after Pascal-casing ("fc" and "f.c").
    /// </summary>
    [Fact]
    public void MemberNamesThatCollideGetStableHashSuffixes()
    {
        var tiny = HostileNames.Tiny();
        var fc = tiny.Layers[1];
        var dequantize = tiny.Layers[2];
        var y = tiny.Tensors.Single(t => t.Name == "y");
        var artifact = tiny with
        {
            Tensors = new([.. tiny.Tensors, y with { Name = "y2" }]),
            Outputs = new([new ArtifactIo("fully_connected", "y"), new ArtifactIo("f.c", "y2")]),
            Layers = new([tiny.Layers[0], fc with { Name = "length" }, dequantize, dequantize with { Name = "dequantize.y", Outputs = new(["y2"]) }]),
        };
        var text = ArtifactText.Write(artifact);
        var result = HostileNames.Generate(text);
        HostileNames.AssertHarmless(result);
        var source = result.ModelTree.ToString();
        Assert.Contains("private void FullyConnectedLength(", source);
        Assert.Contains($"public const int FullyConnected_{Hash("fully_connected")}Length", source);
        Assert.Contains($"private void DequantizeDequantizeY_{Hash("dequantize.y")}(", source);
        // Stable: the same artifact gives the same text.
        Assert.Equal(source, HostileNames.Generate(text).ModelTree.ToString());
    }

    private static string Hash(string name)
    {
        uint h = 2166136261;
        foreach (char c in name)
        {
            h = unchecked((h ^ (byte)c) * 16777619);
            h = unchecked((h ^ (byte)(c >> 8)) * 16777619);
        }
        return h.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}
