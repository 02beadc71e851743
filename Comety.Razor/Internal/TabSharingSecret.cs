using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Comety.Internal;

/// <summary>
/// The key that turns a page's user id and updates URL into the opaque tag tabs share by
/// (<c>share-as</c>): 32 random bytes per process, registered by <c>AddComety</c>. A tag never shows the
/// user id, and cannot be made for another user without the key. Tabs served by different servers, or
/// by one before and after a restart, get different tags and simply do not share, which is safe: each
/// keeps its own connection. (Data Protection was the other candidate, but its keys give no value that is
/// the same everywhere without a stored secret of our own, so it would not share more.)
/// </summary>
internal sealed class TabSharingSecret
{
    // For an application whose services lack AddComety's registration: one key for the process all the same.
    private static readonly Lazy<TabSharingSecret> Fallback = new(static () => new TabSharingSecret());

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public static TabSharingSecret Shared => Fallback.Value;

    /// <summary>HMAC-SHA256 of the user id and the URL, base64url, cut to 128 bits: equal for the same user and URL, in one process.</summary>
    public string TagOf(string userId, string url)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(userId + "\n" + url));
        return Base64Url.EncodeToString(mac.AsSpan(0, 16));
    }
}
