// The six markets of the client (Southeast Asia): dialling code, home
// currency and the regional top-up methods the payment service accepts (docs/api/openapi.yaml, payment).

export interface Country {
  code: 'TH' | 'SG' | 'ID' | 'MY' | 'PH' | 'VN';
  flag: string;
  dial: string;
  currency: string;
  /** Example national number shown as the input placeholder. */
  example: string;
  /** The IANA zone suggested for quiet hours. */
  timezone: string;
}

export const COUNTRIES: Country[] = [
  {
    code: 'TH',
    flag: '🇹🇭',
    dial: '+66',
    currency: 'THB',
    example: '081 234 5678',
    timezone: 'Asia/Bangkok',
  },
  {
    code: 'SG',
    flag: '🇸🇬',
    dial: '+65',
    currency: 'SGD',
    example: '8123 4567',
    timezone: 'Asia/Singapore',
  },
  {
    code: 'ID',
    flag: '🇮🇩',
    dial: '+62',
    currency: 'IDR',
    example: '0812 3456 7890',
    timezone: 'Asia/Jakarta',
  },
  {
    code: 'MY',
    flag: '🇲🇾',
    dial: '+60',
    currency: 'MYR',
    example: '012 345 6789',
    timezone: 'Asia/Kuala_Lumpur',
  },
  {
    code: 'PH',
    flag: '🇵🇭',
    dial: '+63',
    currency: 'PHP',
    example: '0917 123 4567',
    timezone: 'Asia/Manila',
  },
  {
    code: 'VN',
    flag: '🇻🇳',
    dial: '+84',
    currency: 'VND',
    example: '0912 345 678',
    timezone: 'Asia/Ho_Chi_Minh',
  },
];

export function countryByCode(code: string | null | undefined): Country {
  return COUNTRIES.find((c) => c.code === code) ?? COUNTRIES[0]!;
}

/** Top-up methods per currency, in the lower-case form the API takes. */
export const TOPUP_METHODS: Record<string, string[]> = {
  THB: ['promptpay', 'truemoney'],
  SGD: ['paynow', 'grabpay'],
  IDR: ['qris', 'gopay', 'ovo', 'dana'],
  MYR: ['duitnow', 'touchngo'],
  PHP: ['gcash', 'maya'],
  VND: ['vietqr', 'momo', 'zalopay'],
  USD: ['card'],
};

export const METHOD_NAMES: Record<string, string> = {
  promptpay: 'PromptPay',
  truemoney: 'TrueMoney',
  paynow: 'PayNow',
  grabpay: 'GrabPay',
  qris: 'QRIS',
  gopay: 'GoPay',
  ovo: 'OVO',
  dana: 'DANA',
  duitnow: 'DuitNow',
  touchngo: "Touch 'n Go",
  gcash: 'GCash',
  maya: 'Maya',
  vietqr: 'VietQR',
  momo: 'MoMo',
  zalopay: 'ZaloPay',
  card: 'Card',
};
