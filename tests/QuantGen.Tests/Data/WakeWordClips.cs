using QuantGen.Core.IO;

namespace QuantGen.Tests.Data;

/// <summary>
/// The WakeWord sample's clips (samples/WakeWord/Data, made by make_data.sh): 2.8 s each, mel features as
/// openWakeWord computes them (melspectrogram.onnx, x/10 + 2), ten saying "alexa" (espeak-ng) and ten not (espeak-ng
/// phrases, ALSA's recorded announcements, pink noise).
/// </summary>
internal static class WakeWordClips
{
    public const int Mels = 32, Window = 76, Hop = 8, History = 16, Dim = 96;

    public static string DataDirectory => Path.Combine(TestPaths.RepoRoot, "samples", "WakeWord", "Data");

    public static IReadOnlyList<(string Name, bool IsWakeWord, float[] Mel)> All { get; } = Load();

    /// <summary>The 76-frame windows of a clip, 8 frames apart from frame 0 (the calibration windows start at frame 4).</summary>
    public static IEnumerable<float[]> Windows(float[] mel)
    {
        for (int start = 0; (start + Window) * Mels <= mel.Length; start += Hop)
            yield return mel.AsSpan(start * Mels, Window * Mels).ToArray();
    }

    private static List<(string, bool, float[])> Load()
    {
        var mel = Npy.Read(Path.Combine(DataDirectory, "clips.npy"));
        var rows = File.ReadAllLines(Path.Combine(DataDirectory, "clips.tsv")).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(rows.Length, mel.Shape[0]);
        Assert.Equal(Mels, mel.Shape[2]);
        int size = mel.Shape[1] * Mels;
        var data = mel.ToArray<float>();
        return rows.Select((r, i) => (r[0], r[1] == "1", data.AsSpan(i * size, size).ToArray())).ToList();
    }
}
