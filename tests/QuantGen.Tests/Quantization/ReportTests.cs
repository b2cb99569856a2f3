using System.Xml;
using System.Xml.Linq;
using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Quantization;

/// <summary>The HTML report (well-formed, every layer, bars per pass; names from the model encoded) and the progress lines.</summary>
public sealed class ReportTests
{
    [Fact]
    public void HtmlReportShowsEveryLayerWithItsBarsAndProgressReportsEveryWeightedLayer()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var calibration = new CalibrationSet(new Dictionary<string, Tensor>
        {
            ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
        });
        var progress = new List<string>();
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions { WeightBits = 4, AdaRoundIterations = 50, Progress = progress.Add }, calibration);

        var html = Parse(result.ReportHtml);
        var rows = html.Descendants("tr").Where(r => r.Attribute("data-layer") is not null).ToList();
        var weighted = result.Artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).Select(l => l.Name).ToList();
        Assert.True(weighted.Count >= 3, "the CNN has conv and fully-connected layers");
        foreach (var name in weighted)
        {
            var row = Assert.Single(rows, r => r.Attribute("data-layer")!.Value == name);
            // Weight SQNR (nearest, final), output SQNR (nearest, AdaRound, final), weight range (before, after CLE).
            var bars = row.Descendants().Where(e => e.Name.LocalName == "svg").Select(s => s.Elements().Count(e => e.Name.LocalName == "rect")).ToArray();
            Assert.Equal([2, 3, 2], bars);
            Assert.Contains("W4 A8", row.Value);
        }

        // One progress line per weighted layer, in order, each with the layer's time and the time so far.
        var layerLines = progress.Where(l => l.StartsWith("layer ", StringComparison.Ordinal)).ToList();
        Assert.Equal(weighted.Count, layerLines.Count);
        for (int i = 0; i < layerLines.Count; i++)
            Assert.Matches($@"^layer {i + 1}/{weighted.Count} .+ s, output SQNR -?[\d.]+ dB \([\d.]+ s\)$", layerLines[i]);
    }

    [Fact]
    public void NamesFromTheModelCannotAddMarkupOrBreakTheReport()
    {
        const string hostile = "conv\"/><script>alert(1)</script>|cell\nrow\u0001\u2028&amp;\uD800";
        var g = new SyntheticModels(7);
        g.Node("Conv", hostile, ["x", g.Weights("w1", 4, 2, 3, 3)], "c1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu", ["c1"], "y");
        var model = g.Build("hostile", [1, 2, 6, 5], [1, 4, 6, 5]);
        var progress = new List<string>();
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions { Progress = progress.Add }, g.Calibration([1, 2, 6, 5], 40, -1, 1));

        var html = Parse(result.ReportHtml);
        Assert.DoesNotContain(html.Descendants(), e => e.Name.LocalName == "script");
        var row = Assert.Single(html.Descendants("tr"), r => r.Attribute("data-layer") is not null);
        Assert.StartsWith("conv\"/><script>", row.Attribute("data-layer")!.Value, StringComparison.Ordinal);
        // The progress line stays one line: the name's control and line-breaking characters are escaped.
        var line = Assert.Single(progress, l => l.StartsWith("layer ", StringComparison.Ordinal));
        Assert.DoesNotContain('\u0001', line);
        Assert.DoesNotContain('\u2028', line);
        Assert.Contains("\\u2028", line);
        // The Markdown report: the name stays inside its cell, so every row of the layer table has the header's columns.
        var table = result.ReportMarkdown.Split('\n').SkipWhile(l => !l.StartsWith("| layer |", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.Equal(3, table.Count);
        Assert.All(table, l => Assert.Equal(Columns(table[0]), Columns(l)));
        Assert.Contains("\\|cell row", table[2], StringComparison.Ordinal);
    }

    /// <summary>The '|' of a Markdown table row that are not escaped: the cell boundaries.</summary>
    private static int Columns(string row) => System.Text.RegularExpressions.Regex.Count(row, @"(?<!\\)\|");

    /// <summary>Parses the page as XML (it is written XHTML-compatible): fails on any markup error.</summary>
    private static XDocument Parse(string html)
    {
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return XDocument.Load(reader);
    }
}
