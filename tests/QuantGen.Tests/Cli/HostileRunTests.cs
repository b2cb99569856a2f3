using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>`quantgen run` on hostile input (issue 19): distinct outputs never share a file, budgets are CLI options, .npy bombs are refused.</summary>
public sealed class HostileRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-hostile-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Input(float[] values)
    {
        var path = Path.Combine(_dir, "x.npy");
        Npy.Write(path, Tensor.FromArray([1, values.Length], values));
        return path;
    }

    [Fact]
    public void OutputsWhoseNamesSanitiseAlikeGetTheirOwnFiles()
    {
        // 'a/b' = Relu(x), 'a_b' = Neg(x): both sanitise to a_b; the second must not overwrite the first.
        var model = Path.Combine(_dir, "two.onnx");
        File.WriteAllBytes(model, ModelBuilder.Relu(m =>
        {
            m.Graph.Output.Clear();
            m.Graph.Output.Add(ModelBuilder.Value("a/b", 1, 4));
            m.Graph.Output.Add(ModelBuilder.Value("a_b", 1, 4));
            m.Graph.Node.Clear();
            m.Graph.Node.Add(new NodeProto { Name = "r", OpType = "Relu", Input = { "x" }, Output = { "a/b" } });
            m.Graph.Node.Add(new NodeProto { Name = "n", OpType = "Neg", Input = { "x" }, Output = { "a_b" } });
        }));
        var outDir = Path.Combine(_dir, "out");
        var (code, text, err) = Quantgen("run", model, "--input", Input([-1, 2, -3, 4]), "--output-dir", outDir);
        Assert.True(code == 0, err);
        var files = Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "a_b-2.npy", "a_b.npy" }, files);
        var relu = Npy.Read(Path.Combine(outDir, "a_b.npy")).AsSpan<float>().ToArray();
        var neg = Npy.Read(Path.Combine(outDir, "a_b-2.npy")).AsSpan<float>().ToArray();
        Assert.Equal([0f, 2, 0, 4], relu);
        Assert.Equal([1f, -2, 3, -4], neg);
        Assert.Contains("a/b: ", text);
        Assert.Contains("a_b-2.npy", text);
    }

    [Fact]
    public void NodeBudgetIsACliOption()
    {
        var model = Path.Combine(_dir, "chain.onnx");
        File.WriteAllBytes(model, HostileModels.ReluChain(50));
        var (code, _, err) = Quantgen("run", model, "--input", Input([1, 2, 3, 4]), "--output-dir", Path.Combine(_dir, "o1"), "--max-nodes", "10");
        Assert.Equal(1, code);
        Assert.Contains("error QG0041", err);
        Assert.Contains("--max-nodes", err);
        (code, _, err) = Quantgen("run", model, "--input", Input([1, 2, 3, 4]), "--output-dir", Path.Combine(_dir, "o2"), "--max-nodes", "100");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void NpyHeaderClaimingTwoToThe30ElementsAllocatesNothing()
    {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }".PadRight(118) + "\n";
        var bytes = new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 }
            .Concat(System.Text.Encoding.ASCII.GetBytes(header)).Concat(new byte[16]).ToArray();
        var path = Path.Combine(_dir, "bomb.npy");
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var budget = Assert.Throws<QuantGen.Core.ModelException>(() => Npy.Read(path));
        Assert.Equal(QuantGen.Core.ErrorCodes.BudgetExceeded, budget.Code);
        // With the budget raised past it, the file is still too short for its shape: refused before the 4 GiB allocation.
        var truncated = Assert.Throws<QuantGen.Core.ModelException>(() => Npy.Read(path, new QuantGen.Core.ResourceBudget { MaxTensorElements = 1L << 31 }));
        Assert.Equal(QuantGen.Core.ErrorCodes.BadTensorFile, truncated.Code);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated more than 16 MiB");
    }
}
