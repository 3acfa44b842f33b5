import type { NotificationType } from '../../generated/prisma/enums.js';

/** How each kind of notification looks when the sender does not say (icon names follow Material Symbols). */
export const NOTIFICATION_STYLE: Record<NotificationType, { readonly icon: string; readonly color: string }> = {
  BLOG_POST_PUBLISHED: { icon: 'article', color: '#2563eb' },
  COMMENT_ADDED: { icon: 'chat', color: '#0891b2' },
  COMMENT_APPROVED: { icon: 'check_circle', color: '#16a34a' },
  POST_LIKED: { icon: 'favorite', color: '#db2777' },
  SYSTEM_ALERT: { icon: 'campaign', color: '#dc2626' },
};

export const TITLE_MAX = 200;
export const MESSAGE_MAX = 2000;
export const ICON_MAX = 64;
export const COLOR_MAX = 32;
/** Serialized size of `data`; notifications are small, the thing they point at holds the content. */
export const DATA_MAX_CHARS = 10_000;

/** Cuts generated text (post titles, names) to the stored limits instead of failing the action behind it. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
