using System.Reflection;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Generator;

namespace QuantGen.Tests.Import;

/// <summary>
/// The generated class of a hand-built imported model (one input, one output), compiled by the source generator as a
/// consumer's build would, with a check that every kernel path computes what the integer simulator computes.
/// </summary>
internal sealed class ImportedClass
{
    private readonly MethodInfo _run;
    private readonly (string Name, Action Select)[] _paths;
    private readonly IntegerSimulator _simulator;
    private readonly string _input;
    private readonly string _output;

    public ImportedClass(QuantizedArtifact artifact, string className, string input, string output)
    {
        var path = $"/project/obj/quantgen/{className}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, className));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        _run = assembly.GetType("Probe")!.GetMethod("Run")!;
        _paths = GeneratedCodeTests.KernelPaths(assembly);
        _simulator = new IntegerSimulator(artifact);
        (_input, _output) = (input, output);
    }

    public int PathCount => _paths.Length;

    /// <summary>The generated class's output on the default path, after asserting every path equals the simulator bit for bit.</summary>
    public float[] Run(float[] x)
    {
        var expected = _simulator.Run(new Dictionary<string, float[]> { [_input] = x })[_output];
        foreach (var (name, select) in _paths)
        {
            select();
            Assert.True(expected.SequenceEqual((float[])_run.Invoke(null, [x])!), $"the {name} path differs from the simulator");
        }
        _paths[0].Select();
        return expected;
    }
}
