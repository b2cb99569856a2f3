namespace QuantGen.Core.Quantization.Factorization;

/// <summary>
/// What the factorization minimises for one layer: ‖(W − A·B)·L‖² with C = L·Lᵀ the second-moment matrix of the
/// layer's inputs (data-aware: the layer's output error on the calibration set), or C = I (the weight error).
/// <see cref="WeightTimesC"/> and the total ‖W·L‖² are computed once per layer and shared by every setting tried.
/// </summary>
internal sealed class FactorObjective
{
    public FactorObjective(float[] weights, int m, int k, float[]? secondMoment)
    {
        Weights = weights;
        M = m;
        K = k;
        SecondMoment = secondMoment;
        WeightTimesC = secondMoment is null ? weights : DenseMath.Multiply(weights, secondMoment, m, k, k);
        Total = DenseMath.Dot(weights, WeightTimesC);
        LargestEigenvalueOfC = secondMoment is null ? 1 : DenseMath.LargestEigenvalue(secondMoment, k);
    }

    public float[] Weights { get; }

    public int M { get; }

    public int K { get; }

    /// <summary>C [K, K], or null for the weight error (C = I).</summary>
    public float[]? SecondMoment { get; }

    public bool IsDataAware => SecondMoment is not null;

    public float[] WeightTimesC { get; }

    /// <summary>‖W·L‖² = tr(W C Wᵀ): the relative error's denominator.</summary>
    public double Total { get; }

    public double LargestEigenvalueOfC { get; }

    /// <summary>B·C [r, K].</summary>
    public float[] TimesC(float[] b, int rank) => SecondMoment is null ? b : DenseMath.Multiply(b, SecondMoment, rank, K, K);

    /// <summary>tr((W − Ŵ) C (W − Ŵ)ᵀ) / tr(W C Wᵀ) for a dense approximation Ŵ (a plain quantized layer).</summary>
    public double RelativeError(float[] approximation)
    {
        var difference = new float[Weights.Length];
        for (int i = 0; i < difference.Length; i++) difference[i] = Weights[i] - approximation[i];
        var times = SecondMoment is null ? difference : DenseMath.Multiply(difference, SecondMoment, M, K, K);
        return DenseMath.Dot(difference, times) / Total;
    }

    /// <summary>
    /// The second moment of input rows X [n, K], C = XᵀX / n + δ·(tr/K)·I: δ = 1% damping keeps directions the
    /// calibration set never excites from being ignored entirely (512 images span fewer than 784 input directions).
    /// </summary>
    public static float[] SecondMomentOf(float[] rows, int n, int k)
    {
        var c = DenseMath.TransposedMultiply(rows, rows, n, k, k);
        double trace = 0;
        for (int i = 0; i < k; i++) trace += c[i * k + i];
        float damping = (float)(0.01 * trace / n / k);
        for (int i = 0; i < c.Length; i++) c[i] /= n;
        for (int i = 0; i < k; i++) c[i * k + i] += damping;
        return c;
    }
}

/// <summary>A layer's fitted factors: W ≈ A·B with A [M, r] and B [r, K] sparse and quantized.</summary>
internal sealed record FactorizedWeights(FactorSetting Setting, SparseQuantizedFactor A, SparseQuantizedFactor B, double RelativeError, bool DataAware)
{
    /// <summary>The largest |B̂·x| over the calibration inputs (x real, after the zero point): sets the int16 intermediate's scale. Null without data.</summary>
    public double? IntermediateMax { get; init; }

    /// <summary>Â·B̂ [M, K], what the layer computes (up to the int16 intermediate's rounding).</summary>
    public float[] Product() => DenseMath.Multiply(A.Dequantize(), B.Dequantize(), A.Rows, A.Cols, B.Cols);
}

/// <summary>
/// Quantized sparse factorization (arXiv 2207.11048): truncated-SVD initialisation (A = U√Σ, B = √Σ Vᵀ), then
/// projected gradient descent alternating an A step and a B step, each followed by the projection onto the sparse
/// set (top-k magnitudes per row) and then onto the grid. Each step is the block gradient preconditioned by the
/// block's Hessian (A: H = B C Bᵀ; B: AᵀA on the left and 1/λmax(C), exact for C = I), so an A step lands on the
/// best A for the current B before projection. Measured on random low-rank-ish matrices (FactorizationTests): plain
/// 1/L gradient steps, and steps accumulated on a float latent copy ("error feedback"), never improved on the
/// projected SVD; these steps do. A plain setting (one factor the identity) starts from W itself instead of the SVD.
/// The best projected iterate is returned. Deterministic: fixed seeds and
/// schedule-independent products.
/// </summary>
internal static class FactorFitter
{
    public const int DefaultIterations = 40;

    public static FactorizedWeights Fit(FactorObjective objective, FactorSetting setting, int iterations = DefaultIterations)
    {
        int m = objective.M, k = objective.K, r = setting.Rank;
        var (initA, initB) = setting.IsPlain(m, k) ? PlainStart(objective.Weights, m) : TruncatedSvd(objective.Weights, m, k, r);
        var a = SparseQuantizedFactor.Project(initA, m, r, setting.NonZerosA, setting.Bits);
        var b = SparseQuantizedFactor.Project(initB, r, k, setting.NonZerosB, setting.Bits);
        var state = Evaluate(objective, a, b);
        var best = (A: a, B: b, Loss: state.Loss);
        for (int it = 0; it < iterations; it++)
        {
            // A step: ∇A = A·H − (W C)·Bᵀ with H = B C Bᵀ the block's Hessian; A − ∇A·H⁻¹ is the best A for this B.
            var stepped = a.Dequantize();
            var gradA = DenseMath.Multiply(stepped, state.H, m, r, r);
            for (int i = 0; i < gradA.Length; i++) gradA[i] -= state.WcBt[i];
            var stepA = DenseMath.SolveRight(gradA, state.H, m, r);
            for (int i = 0; i < stepped.Length; i++) stepped[i] -= stepA[i];
            a = SparseQuantizedFactor.Project(stepped, m, r, setting.NonZerosA, setting.Bits);

            // B step: ∇B = (AᵀA)·(B C) − Aᵀ·(W C); the step (AᵀA)⁻¹·∇B / λmax(C) (the best B for this A when C = I).
            var ad = a.Dequantize();
            var ata = DenseMath.TransposedMultiply(ad, ad, m, r, r);
            var gradB = DenseMath.Multiply(ata, state.Bc, r, r, k);
            var atWc = DenseMath.TransposedMultiply(ad, objective.WeightTimesC, m, r, k);
            for (int i = 0; i < gradB.Length; i++) gradB[i] -= atWc[i];
            var stepB = DenseMath.Transpose(DenseMath.SolveRight(DenseMath.Transpose(gradB, r, k), ata, k, r), k, r);
            stepped = b.Dequantize();
            float scaleB = (float)(1 / objective.LargestEigenvalueOfC);
            for (int i = 0; i < stepped.Length; i++) stepped[i] -= scaleB * stepB[i];
            b = SparseQuantizedFactor.Project(stepped, r, k, setting.NonZerosB, setting.Bits);

            state = Evaluate(objective, a, b);
            if (state.Loss < best.Loss) best = (a, b, state.Loss);
        }
        return new FactorizedWeights(setting, best.A, best.B, Math.Max(0, best.Loss) / objective.Total, objective.IsDataAware);
    }

    /// <summary>
    /// The start of a plain setting (<see cref="FactorSetting.IsPlain"/>): A = I and B = W, so the first projection is
    /// W rounded per row onto the grid.
    /// </summary>
    private static (float[] A, float[] B) PlainStart(float[] w, int m)
    {
        var identity = new float[m * m];
        for (int i = 0; i < m; i++) identity[i * m + i] = 1;
        return (identity, (float[])w.Clone());
    }

    /// <summary>The products both steps and the loss share: B·C, H = B C Bᵀ, (W C)·Bᵀ, and tr((W − AB) C (W − AB)ᵀ).</summary>
    private static (float[] Bc, float[] H, float[] WcBt, double Loss) Evaluate(FactorObjective objective, SparseQuantizedFactor a, SparseQuantizedFactor b)
    {
        int m = objective.M, k = objective.K, r = b.Rows;
        float[] ad = a.Dequantize(), bd = b.Dequantize();
        var bc = objective.TimesC(bd, r);
        var h = DenseMath.MultiplyTransposed(bc, bd, r, k, r);
        var wcBt = DenseMath.MultiplyTransposed(objective.WeightTimesC, bd, m, k, r);
        var ata = DenseMath.TransposedMultiply(ad, ad, m, r, r);
        // ‖(W − AB)L‖² = tr(W C Wᵀ) − 2⟨A, (W C) Bᵀ⟩ + ⟨AᵀA, B C Bᵀ⟩.
        double loss = objective.Total - 2 * DenseMath.Dot(ad, wcBt) + DenseMath.Dot(ata, h);
        return (bc, h, wcBt, loss);
    }

    /// <summary>
    /// Rank-r truncated SVD of W [m, k] by subspace iteration (4 power steps, 8 extra directions, fixed seed), then an
    /// exact SVD of the small projected matrix: returns A = U√Σ [m, r] and B = √Σ Vᵀ [r, k].
    /// </summary>
    public static (float[] A, float[] B) TruncatedSvd(float[] w, int m, int k, int r)
    {
        int p = Math.Min(Math.Min(m, k), r + 8);
        var random = new Random(20220722);
        var omega = new float[p * k];
        for (int i = 0; i < omega.Length; i++) omega[i] = (float)(random.NextDouble() * 2 - 1);
        var q = Orthonormalize(DenseMath.MultiplyTransposed(omega, w, p, k, m), p, m);     // Qᵀ [p, m]
        for (int step = 0; step < 4; step++)
        {
            var z = DenseMath.Multiply(q, w, p, m, k);                                       // Qᵀ W [p, k]
            q = Orthonormalize(DenseMath.MultiplyTransposed(z, w, p, k, m), p, m);           // (W Wᵀ Q)ᵀ
        }
        var small = DenseMath.Multiply(q, w, p, m, k);                                      // S = Qᵀ W [p, k]
        var gram = new double[p * p];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) gram[i * p + j] = DenseMath.Dot(small.AsSpan(i * k, k).ToArray(), small.AsSpan(j * k, k).ToArray());
        var (values, vectors) = DenseMath.SymmetricEigen(gram, p);                          // S Sᵀ = Ub Σ² Ubᵀ
        var a = new float[m * r];
        var b = new float[r * k];
        for (int j = 0; j < r; j++)
        {
            double sigma = Math.Sqrt(Math.Max(values[j], 0));
            if (sigma < 1e-12) continue;
            double root = Math.Sqrt(sigma);
            for (int l = 0; l < p; l++)
            {
                double u = vectors[l * p + j];
                if (u == 0) continue;
                // U = Q Ub: column j of A is √σ_j Σ_l Ub[l, j] Q[:, l]; row j of B is Σ_l Ub[l, j] S[l, :] / √σ_j.
                for (int i = 0; i < m; i++) a[i * r + j] += (float)(root * u * q[l * m + i]);
                for (int i = 0; i < k; i++) b[j * k + i] += (float)(u / root * small[l * k + i]);
            }
        }
        return (a, b);
    }

    /// <summary>Modified Gram-Schmidt on the rows of [rows, n] (twice, for float accuracy); a dependent row becomes zero.</summary>
    private static float[] Orthonormalize(float[] rows, int count, int n)
    {
        var result = (float[])rows.Clone();
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < count; i++)
            {
                var row = result.AsSpan(i * n, n);
                for (int j = 0; j < i; j++)
                {
                    var other = result.AsSpan(j * n, n);
                    float d = System.Numerics.Tensors.TensorPrimitives.Dot(row, other);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(other, -d, row, row);
                }
                float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
                if (norm < 1e-20f) row.Clear();
                else System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
            }
        return result;
    }
}

/// <summary>Plain weight SVD, the baseline the factorization is measured against (tests/measure/factorization.cs).</summary>
public static class WeightSvd
{
    /// <summary>The rank-r truncated-SVD approximation of W [m, k], in float (the same initialisation the fitter starts from).</summary>
    public static float[] Approximate(float[] w, int m, int k, int r)
    {
        var (a, b) = FactorFitter.TruncatedSvd(w, m, k, r);
        return DenseMath.Multiply(a, b, m, r, k);
    }
}
