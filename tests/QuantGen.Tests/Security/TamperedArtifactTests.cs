using Microsoft.CodeAnalysis;
using QuantGen.Core.Artifact;

namespace QuantGen.Tests.Security;

/// <summary>
/// obj/ is writable by anything that can write the project: the generator re-validates the artifact it reads, and a
/// tampered or inconsistent one is a QG1xxx diagnostic on one line, never a generator crash (CS8785), never generated
/// code that fails to compile or allocates a wrapped-around length. Also the project's own names (QG1030).
/// </summary>
public sealed class TamperedArtifactTests
{
    private static string Tiny => ArtifactText.Write(HostileNames.Tiny());

    /// <summary>The one diagnostic of a generator run, which must be an error of that code on one line; no model class, and the rest compiles.</summary>
    private static Diagnostic Single(string artifactText, string code, Dictionary<string, string>? metadata = null)
    {
        var result = HostileNames.Generate(artifactText, "", metadata);
        var diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal(code, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.DoesNotContain(result.CompilerDiagnostics, d => d.Id == "CS8785");
        var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
        Assert.DoesNotContain('\u2028', message);
        // No model class (the kernels may be: they compile on their own).
        Assert.All(result.Generated, t => Assert.True(t.FilePath.EndsWith("QuantizedModelAttribute.g.cs", StringComparison.Ordinal)
            || t.FilePath.EndsWith("QuantGenKernels.g.cs", StringComparison.Ordinal), t.FilePath));
        Assert.True(result.Image is not null, string.Join("\n", result.CompilerDiagnostics));
        return diagnostic;
    }

    [Fact]
    public void ABlobShapeThatOverflowsIsQG1001()
    {
        // 65536 × 65536 × 65536 overflowed int in the reader's checked product: an OverflowException, CS8785.
        var text = Tiny.Replace("blob weights i8 3,4 ", "blob weights i8 65536,65536,65536 ", StringComparison.Ordinal);
        Assert.Contains("shape of more than", Single(text, "QG1001").GetMessage());
    }

    [Theory]
    [InlineData("tensor x_q u8 1,4 ", "tensor x_q u8 1,0 ", "a dimension of 0")]
    [InlineData("in x_q\n", "in x_missing\n", "undeclared tensor 'x_missing'")]
    [InlineData("output y y\n", "output y x_q\n", "is not a float tensor")]
    [InlineData("output y y\n", "output y x\n", "more than one input or output")] // Run(input, output) over one tensor: CS0100
    [InlineData("tensor y f32 1,3 1 0 0 0\n", "tensor y f32 1,3 1 0 0 0\ntensor y f32 1,3 1 0 0 0\n", "declared twice")]
    public void AnInconsistentArtifactIsQG1031(string from, string to, string expected)
    {
        Assert.Contains(from, Tiny);
        var diagnostic = Single(Tiny.Replace(from, to, StringComparison.Ordinal), "QG1031");
        Assert.Contains(expected, diagnostic.GetMessage());
    }

    [Theory]
    [InlineData("tensor x_q u8 1,4 ", "tensor x_q u8 65536,65536,2 ")] // wrapped to 0 in 32 bits: new byte[0]
    [InlineData("tensor y_q u8 1,3 ", "tensor y_q u8 2147483647,2147483647 ")]
    public void AnAbsurdTensorShapeIsOverTheGeneratorsBudget(string from, string to)
    {
        // The budget is checked first (it bounds the work of the other checks): QG1041 naming the tensor.
        Assert.Contains(from, Tiny);
        var diagnostic = Single(Tiny.Replace(from, to, StringComparison.Ordinal), "QG1041");
        Assert.Contains(from.Split(' ')[1], diagnostic.GetMessage());
    }

    [Fact]
    public void AnArtifactWithoutLayersIsQG1031()
    {
        var text = Tiny[..Tiny.IndexOf("layer ", StringComparison.Ordinal)];
        Assert.Contains("it has no layers", Single(text, "QG1031").GetMessage());
    }

    [Fact]
    public void AFailingNameCannotForgeADiagnosticLine()
    {
        // An unknown layer kind is refused by the generator's re-validation (QG1040, ArtifactGeometry) naming the layer;
        // the layer's name carries a forged MSBuild error line.
        var forged = "fc\nSecrets.cs : error QG0001: forged\u2028Other.cs : error QG0002: forged";
        var artifact = HostileNames.Tiny();
        artifact = artifact with { Layers = new([.. artifact.Layers.Select(l => l.Name == "fc" ? l with { Kind = "Unknown", Name = forged } : l)]) };
        var message = Single(ArtifactText.Write(artifact), "QG1040").GetMessage();
        Assert.Contains("fc\\u000ASecrets.cs : error QG0001: forged\\u2028Other.cs", message);
    }

    [Theory]
    [InlineData("QuantGenClassName", "Bad Name", "the class 'Bad Name'", "ClassName")]
    [InlineData("QuantGenClassName", "class", "the class 'class'", "ClassName")]
    [InlineData("QuantGenClassName", "Tiny\u2028public class Pwned { }", "the class 'Tiny\\u2028public class Pwned { }'", "ClassName")]
    [InlineData("QuantGenClassName", "9Lives", "the class '9Lives'", "ClassName")]
    [InlineData("QuantGenNamespace", "My-App.Models", "the namespace 'My-App.Models'", "Namespace")]
    [InlineData("QuantGenNamespace", "A..B", "the namespace 'A..B'", "Namespace")]
    [InlineData("QuantGenNamespace", "A;class Pwned{}", "the namespace 'A;class Pwned{}'", "Namespace")]
    public void AClassOrNamespaceThatIsNotAnIdentifierIsQG1030(string key, string value, string expected, string item)
    {
        var diagnostic = Single(Tiny, "QG1030", new() { ["build_metadata.AdditionalFiles." + key] = value });
        Assert.Equal($"The quantized model '{HostileNames.ArtifactPath}' would generate {expected}, which is not a C# identifier (ASCII letters, digits and '_', " +
            $"not starting with a digit, not a keyword; a namespace is such names joined by '.'): set the QuantModel item's {item}", diagnostic.GetMessage());
    }

    [Fact]
    public void ValidNamesStillGenerate()
    {
        var result = HostileNames.Generate(Tiny, "", new()
        {
            ["build_metadata.AdditionalFiles.QuantGenClassName"] = "_Tiny2",
            ["build_metadata.AdditionalFiles.QuantGenNamespace"] = "My_App.Models9",
        });
        HostileNames.AssertHarmless(result);
        Assert.Contains("My_App.Models9._Tiny2", result.TypeNames());
    }
}
