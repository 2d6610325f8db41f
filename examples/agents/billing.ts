/**
 * Billing agent: invoice look-ups and refund requests against an imaginary
 * ledger. Amounts and case numbers are derived from the invoice or order
 * number in the text, so the same question always gets the same answer.
 *
 * Run alone: node --import tsx examples/agents/billing.ts --url ws://127.0.0.1:9100 --token <jwt>
 * (the token needs client_type "ai-agent" and `caps` matching "billing.invoices" and "billing.refunds").
 */
import { isMain } from '../cli.js';
import { runAgentFromArgs, startAgent, type AgentOptions, type AgentSpec, type Intent, type RunningAgent } from './agent.js';

export const BILLING_AGENT: AgentSpec = {
  id: 'billing-bot',
  capabilities: [
    {
      name: 'billing.invoices',
      description: 'Invoices, payments, balances, overdue bills and payment reminders',
      examples: [
        'invoice 1042 is overdue, send a payment reminder',
        'what is the balance on my account',
        'show the unpaid invoices for this month',
        'when is my next bill due',
        'has invoice 877 been paid',
      ],
      tags: ['billing', 'finance'],
    },
    {
      name: 'billing.refunds',
      description: 'Refunds for payments, duplicate charges and disputed card charges',
      examples: [
        'I was charged twice, please refund me',
        'refund order 5521',
        'my card was charged for a cancelled subscription',
        'dispute a payment I do not recognise',
      ],
      tags: ['billing', 'finance'],
    },
  ],
  answer: (intent: Intent) => {
    const number = Number(/\b(\d{2,7})\b/.exec(intent.text)?.[1] ?? 1000);
    // A stable fake amount in euros: 20.00–519.99.
    const amount = (20 + ((number * 7919) % 50_000) / 100).toFixed(2);
    if (intent.capability === 'billing.refunds') {
      const caseId = `R-${(number * 31).toString(36).toUpperCase()}`;
      return { text: `Refund of €${amount} for order ${number} opened as case ${caseId}; expect it within 5 working days.`, order: number, amount, case: caseId };
    }
    return { text: `Invoice ${number}: €${amount} outstanding; payment reminder sent to the customer.`, invoice: number, amount, reminder_sent: true };
  },
};

export function startBillingAgent(url: string, token: string | undefined, options?: AgentOptions): Promise<RunningAgent> {
  return startAgent(BILLING_AGENT, url, token, options);
}

if (isMain(import.meta.url)) runAgentFromArgs(BILLING_AGENT, 'examples/agents/billing.ts');
